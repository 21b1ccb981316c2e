#lang racket/base
;; The base operations of spec/rpc.md, section 9, that stand alone: ports,
;; plain TCP, events, loggers and the procedures made by the shim.  Those
;; named after Racket procedures are those procedures, so they take the
;; same arguments and raise the same exceptions.

(require racket/tcp
         "log.rkt"
         "procs.rkt")

(provide base-procedures)

;; Waits for at least one byte, then answers what is there, up to n.
(define (read-bytes-avail n port)
  (define buffer (make-bytes n))
  (define got (read-bytes-avail! buffer port))
  (if (exact-integer? got) (subbytes buffer 0 got) got))

;; Racket's sync chooses at random among ready events; the protocol wants
;; the first ready one in argument order, as the object that was passed.
;; Waiting on ports and listeners consumes nothing.
(define (sync-timeout-in-order seconds . evts)
  (define marked (for/list ([e (in-list evts)]) (wrap-evt e (lambda _ e))))
  (define (first-ready)
    (for/or ([m (in-list marked)]) (sync/timeout 0 m)))
  (or (first-ready)
      (let ([woken (apply sync/timeout seconds marked)])
        (and woken (or (first-ready) woken)))))

(define base-procedures
  (hash "make-pipe" make-pipe
        "open-input-bytes" open-input-bytes
        "read-bytes" read-bytes
        "read-bytes-avail" read-bytes-avail
        "write-bytes" write-bytes
        "flush-output" flush-output
        "close-input-port" close-input-port
        "close-output-port" close-output-port
        "port-closed?" port-closed?
        "file-stream-buffer-mode" file-stream-buffer-mode
        "tcp-listen" tcp-listen
        "tcp-accept" tcp-accept
        "tcp-connect" tcp-connect
        "tcp-addresses" tcp-addresses
        "tcp-close" tcp-close
        "sync/timeout" sync-timeout-in-order
        "byte-ready?" byte-ready?
        "make-logger" make-recorded-logger
        "logger-messages" logger-messages
        "log-messages" log-messages
        "make-sni-callback" make-sni-callback
        "make-error-procedure" make-error-procedure
        "procedure-calls" procedure-calls))
