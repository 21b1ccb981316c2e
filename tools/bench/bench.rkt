#lang racket/base
;; The bulk and handshake workloads through Racket's openssl library.
;;
;;   racket bench.rkt bulk CHAIN KEY CA TOTAL WRITE
;;   racket bench.rkt handshake tls12|tls13 CHAIN KEY CA COUNT
;;   racket bench.rkt serve CHAIN KEY
;;
;; The shape of tools/bench/reference.c: the server runs in a place of its
;; own (an OS thread, as the C programs' server thread is) and the main
;; place is the client, over TCP on 127.0.0.1; the client verifies the
;; chain and the host.  The TLS 1.3 suite comes from OPENSSL_CONF.  `serve`
;; accepts one connection and prints its port first, so that the driver
;; can ask `openssl s_client` which suite this process negotiates: the
;; library has no procedure that says.  One JSON line on stdout per run.
(require openssl
         racket/place)

(define (size text)
  (define m (regexp-match #px"^([0-9]+)([KMG]?)$" text))
  (unless m
    (error 'bench "bad size: ~a" text))
  (* (string->number (cadr m))
     (case (caddr m)
       [("K") 1024]
       [("M") (* 1024 1024)]
       [("G") (* 1024 1024 1024)]
       [else 1])))

(define (server-context proto chain key)
  (ssl-make-server-context proto
                           #:private-key (list 'pem key)
                           #:certificate-chain chain))

(define (client-context proto ca)
  (define ctx (ssl-make-client-context proto))
  (ssl-load-verify-root-certificates! ctx ca)
  (ssl-set-verify! ctx #t)
  (ssl-set-verify-hostname! ctx #t)
  ctx)

(define (listener-port listener)
  (define-values (host port remote-host remote-port) (ssl-addresses listener #t))
  port)

(define (now) (/ (current-inexact-milliseconds) 1000.0))
(define (cpu) (/ (current-process-milliseconds #f) 1000.0))

;; The server side, in its own place: listen, say the port, then either
;; read `total` bytes from one client or accept `count` handshakes, and
;; answer the time it finished.
(define (start-server)
  (place ch
    (define args (place-channel-get ch))
    (define mode (car args))
    (define ctx (server-context (list-ref args 1) (list-ref args 2) (list-ref args 3)))
    (define listener (ssl-listen 0 1024 #t "127.0.0.1" ctx))
    (place-channel-put ch (listener-port listener))
    (case mode
      [(bulk) (place-channel-put ch (sink listener (list-ref args 4) (list-ref args 5)))]
      [(handshake) (place-channel-put ch (accept-many listener (list-ref args 4)))])
    (ssl-close listener)))

(define (sink listener total bufsize)
  (define-values (in out) (ssl-accept listener))
  (define buf (make-bytes bufsize))
  (let loop ([got 0])
    (define n (if (< got total) (read-bytes-avail! buf in) eof))
    (cond
      [(eof-object? n)
       (define end (now))
       (close-input-port in)
       (close-output-port out)
       (list got end)]
      [else (loop (+ got n))])))

(define (accept-many listener count)
  (for ([i (in-range count)])
    (define-values (in out) (ssl-accept listener))
    (close-input-port in)
    (close-output-port out))
  count)

(define (report workload rate unit seconds cpu-seconds amount check)
  (printf "{\"workload\": ~s, \"impl\": \"racket\", \"rate\": ~a, \"unit\": ~s, \"seconds\": ~a, \"cpu\": ~a, \"amount\": ~a, \"check\": ~s}\n"
          workload
          (exact->inexact rate)
          unit
          (exact->inexact seconds)
          (exact->inexact cpu-seconds)
          amount
          check)
  (flush-output))

(define (bulk chain key ca total-text write-text)
  (define total (size total-text))
  (define wsize (size write-text))
  (define server (start-server))
  (place-channel-put server (list 'bulk 'tls13 chain key total wsize))
  (define port (place-channel-get server))
  (define-values (in out) (ssl-connect "127.0.0.1" port (client-context 'tls13 ca)))
  (define data (make-bytes wsize 97))
  (define t0 (now))
  (define c0 (cpu))
  (let loop ([sent 0])
    (when (< sent total)
      (define n (min wsize (- total sent)))
      (write-bytes data out 0 n)
      (loop (+ sent n))))
  (flush-output out)
  (define result (place-channel-get server))
  (unless (= (car result) total)
    (error 'bench "the server got ~a of ~a bytes" (car result) total))
  (define seconds (- (cadr result) t0))
  (report "bulk" (/ total seconds 1e6) "MB/s" seconds (- (cpu) c0) total "")
  (close-output-port out)
  (close-input-port in)
  (place-wait server))

(define (handshake proto-text chain key ca count-text)
  (define proto (string->symbol proto-text))
  (define count (string->number count-text))
  (define ctx (client-context proto ca))
  (define server (start-server))
  (place-channel-put server (list 'handshake proto chain key count))
  (define port (place-channel-get server))
  (define t0 (now))
  (define c0 (cpu))
  (for ([i (in-range count)])
    (define-values (in out) (ssl-connect "127.0.0.1" port ctx))
    (close-output-port out)
    (close-input-port in))
  (unless (= (place-channel-get server) count)
    (error 'bench "the server accepted too few"))
  (define seconds (- (now) t0))
  (report "handshake" (/ count seconds) "handshakes/s" seconds (- (cpu) c0) count proto-text)
  (place-wait server))

(define (serve chain key)
  (define listener (ssl-listen 0 5 #t "127.0.0.1" (server-context 'tls13 chain key)))
  (printf "~a\n" (listener-port listener))
  (flush-output)
  (define-values (in out) (ssl-accept listener))
  (let loop ()
    (unless (eof-object? (read-bytes-avail!* (make-bytes 4096) in))
      (sync in)
      (loop)))
  (close-output-port out)
  (close-input-port in)
  (ssl-close listener))

(module+ main
  (define argv (vector->list (current-command-line-arguments)))
  (define workloads (list (list "bulk" bulk 5) (list "handshake" handshake 5) (list "serve" serve 2)))
  (define w (and (pair? argv) (assoc (car argv) workloads)))
  (unless (and w (= (length (cdr argv)) (caddr w)))
    (eprintf "usage: racket bench.rkt bulk|handshake|serve ARGS... (see its head)\n")
    (exit 2))
  (void (apply (cadr w) (cdr argv))))
