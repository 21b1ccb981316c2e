#lang racket/base
;; An sslport RPC shim over Racket's own openssl library (Debian's racket
;; 8.7), so that the conformance suite is checked against an implementation
;; written elsewhere.
;;
;; It speaks the JSON Lines protocol of spec/rpc.md on stdin and stdout.
;; Every request runs on its own Racket thread, so requests overlap (one
;; shim can hold both ends of a connection); answers are written whole,
;; one line at a time, under a semaphore.  shim.rkt, the command that the
;; suite runs, compiles this module on first use and then calls `main`.

(provide main)

(require "log.rkt" ; first: its receiver must exist before openssl loads
         json
         racket/tcp
         openssl
         "codec.rkt"
         "bindings.rkt"
         "ops.rkt")

;; Raised for an op or value this shim does not provide.
(struct unimplemented (what))

;; ---------------------------------------------------------------------------
;; Answers

(define stdout (current-output-port))
(define output-lock (make-semaphore 1))

(define (send! response)
  (call-with-semaphore
   output-lock
   (lambda ()
     (write-json response stdout)
     (newline stdout)
     (flush-output stdout))))

(define (error-response id kind message)
  (hasheq 'id id 'error (hasheq 'kind kind 'message message)))

;; The nearest kind of spec/rpc.md, section 6.  Order matters: the finer
;; kinds are subtypes of exn:fail.
(define (error-kind e)
  (cond
    [(exn:fail:contract? e) "exn:fail:contract"]
    [(exn:fail:network? e) "exn:fail:network"]
    [(exn:fail:unsupported? e) "exn:fail:unsupported"]
    [(exn:break? e) "exn:break"]
    [else "exn:fail"]))

(define (error-message e)
  (if (exn? e) (exn-message e) (format "raised a non-exception: ~e" e)))

;; Runs the request and turns its results, or what it raised, into one
;; response.  with-handlers catches breaks too, which the /enable-break
;; calls raise.
(define (respond id thunk)
  (with-handlers ([unimplemented?
                   (lambda (u)
                     (error-response
                      id "unimplemented"
                      (format "~a is not provided by Racket ~a's openssl"
                              (unimplemented-what u) (version))))]
                  [(lambda (e) #t)
                   (lambda (e)
                     (error-response id (error-kind e) (error-message e)))])
    (define results (call-with-values thunk list))
    (if (and (pair? results) (null? (cdr results)))
        (hasheq 'id id 'ok (encode (car results)))
        (hasheq 'id id 'values (map encode results)))))

;; ---------------------------------------------------------------------------
;; Requests

(define (find-procedure op)
  (or (hash-ref shim-procedures op #f)
      (hash-ref base-procedures op #f)
      (hash-ref binding-procedures op #f)
      (raise (unimplemented (format "op ~a" op)))))

;; kw holds names without "#:"; keyword-apply wants them sorted.
(define (apply-with-keywords proc args kw)
  (if (null? kw)
      (apply proc args)
      (let ([sorted (sort kw keyword<? #:key car)])
        (keyword-apply proc (map car sorted) (map cdr sorted) args))))

(define (request-arguments request)
  (define args (decode (hash-ref request 'args '())))
  (unless (list? args)
    (contract-failure "sslport shim: args is not an array"))
  (define kw (hash-ref request 'kw (hasheq)))
  (unless (hash? kw)
    (contract-failure "sslport shim: kw is not an object"))
  (values args
          (for/list ([(name v) (in-hash kw)])
            (cons (string->keyword (symbol->string name)) (decode v)))))

(define (run-request id request)
  (send! (respond id
                  (lambda ()
                    ;; The op first: an op not provided is `unimplemented`
                    ;; whatever its arguments.
                    (define proc (find-procedure (hash-ref request 'op #f)))
                    (define-values (args kw) (request-arguments request))
                    (apply-with-keywords proc args kw)))))

;; ---------------------------------------------------------------------------
;; Threads.  Breaks are disabled in every request thread, so that `break`
;; reaches only the /enable-break calls, which enable breaks while they
;; wait (spec/rpc.md, section 9, "Breaks").  A custodian holds everything
;; the requests open, so that exit can close it all.

(define request-custodian (make-custodian))
(define running (make-hash)) ; request id -> thread

(define (start-request id request)
  (define worker
    (parameterize-break #f
      (parameterize ([current-custodian request-custodian])
        (thread (lambda ()
                  (run-request id request)
                  (hash-remove! running id))))))
  (hash-set! running id worker))

(define (break-request id)
  (define worker (hash-ref running id #f))
  (when worker (break-thread worker)))

;; ---------------------------------------------------------------------------
;; Ops that belong to the shim rather than to a library

(define (hello)
  (json-object
   (hasheq 'implementation "racket"
           'version (version)
           'openssl (or (openssl-version-text) 'null)
           'hide-libraries #f)))

(define (value name)
  (define read-value
    (hash-ref binding-values name
              (lambda () (raise (unimplemented (format "value ~a" name))))))
  (read-value))

(define (release v)
  (release-handle! v))

(define shim-procedures
  (hash "hello" hello
        "value" value
        "break" break-request
        "release" release))

;; ---------------------------------------------------------------------------
;; Exit: close what the shim holds.  SSL output ports are abandoned, not
;; shut down, so that exit never waits for a peer; a close that still
;; blocks (a full pipe) is given up on after a moment.

(define (close-quietly v)
  (with-handlers ([exn:fail? void])
    (cond
      [(and (output-port? v) (ssl-port? v)) (ssl-abandon-port v)]
      [(input-port? v) (close-input-port v)]
      [(output-port? v) (close-output-port v)]
      [(ssl-listener? v) (ssl-close v)]
      [(tcp-listener? v) (tcp-close v)])))

(define (shut-down)
  (define objects (kept-objects))
  (define closer
    (parameterize-break #f
      (thread (lambda () (for-each close-quietly objects)))))
  (sync/timeout 2 closer)
  (custodian-shutdown-all request-custodian))

;; ---------------------------------------------------------------------------
;; The request loop

;; The parameter ssl-default-verify-sources is set on this, the main,
;; thread: request threads start from its parameter values, so a setting
;; holds for every later request (spec/rpc.md, section 8).
(define main-thread-ops '("ssl-default-verify-sources"))

(define (handle-line line)
  (define request
    (with-handlers ([exn:fail? (lambda (e) e)])
      (bytes->jsexpr line)))
  (define id (and (hash? request) (hash-ref request 'id #f)))
  (define op (and (hash? request) (hash-ref request 'op #f)))
  (cond
    [(not (exact-integer? id))
     (send! (error-response 'null "exn:fail:contract"
                            (format "sslport shim: not a request: ~a"
                                    (if (exn? request)
                                        (exn-message request)
                                        line))))]
    [(equal? op "exit")
     (shut-down)
     (send! (hasheq 'id id 'ok 'null))
     (exit 0)]
    [(member op main-thread-ops) (run-request id request)]
    [else (start-request id request)]))

(define (main)
  (let loop ()
    (define line (read-bytes-line (current-input-port) 'linefeed))
    (cond
      [(eof-object? line)
       (shut-down)
       (exit 0)]
      [(regexp-match? #px#"^\\s*$" line) (loop)]
      [else (handle-line line) (loop)])))

