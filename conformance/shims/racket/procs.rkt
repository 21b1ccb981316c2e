#lang racket/base
;; Procedures made by the shim from a description, for the API to call:
;; SNI callbacks and #:error/ssl procedures (spec/rpc.md, section 9,
;; "Procedures made by the shim").  No code crosses the wire, so each
;; procedure records its calls for procedure-calls.

(provide make-sni-callback
         make-error-procedure
         procedure-calls)

(define calls-lock (make-semaphore 1))
(define calls (make-weak-hasheq))

(define (record-call! proc call)
  (call-with-semaphore
   calls-lock
   (lambda ()
     (hash-set! calls proc (cons call (hash-ref calls proc '()))))))

(define (procedure-calls proc)
  (unless (hash-has-key? calls proc)
    (raise-argument-error 'procedure-calls
                          "a procedure made by the shim" proc))
  (call-with-semaphore calls-lock
                       (lambda () (reverse (hash-ref calls proc)))))

;; ---------------------------------------------------------------------------
;; SNI callbacks.  `pairs` holds (list hostname answer); the answer is a
;; server context, #f, or 'raise.  A name in no pair answers #f.

(define (make-sni-callback pairs)
  (for ([p (in-list pairs)])
    (unless (and (list? p) (= 2 (length p)) (string? (car p)))
      (raise-argument-error 'make-sni-callback
                            "(listof (list/c string? any/c))" pairs)))
  (define (sni-callback hostname)
    (record-call! sni-callback hostname)
    (define pair (assoc hostname pairs))
    (cond
      [(not pair) #f]
      [(eq? (cadr pair) 'raise)
       (raise (exn:fail (format "sni-callback: raising as asked for ~s"
                                hostname)
                        (current-continuation-marks)))]
      [else (cadr pair)]))
  (hash-set! calls sni-callback '())
  sni-callback)

;; ---------------------------------------------------------------------------
;; Error procedures, called as `error` is: (proc who format-string v ...).
;; Each raises the exception kind it was made for, with the message that
;; `error` would give.

(define exception-makers
  (hash "exn:fail" exn:fail
        "exn:fail:contract" exn:fail:contract
        "exn:fail:network" exn:fail:network
        "exn:fail:unsupported" exn:fail:unsupported
        "exn:break" #f))

(define (make-error-procedure kind)
  (unless (hash-has-key? exception-makers kind)
    (raise-argument-error 'make-error-procedure
                          "an exception kind of the protocol" kind))
  (define (error-procedure who . rest)
    (define text (format-error-text who rest))
    (record-call! error-procedure (list (if (symbol? who) who (void)) text))
    (raise-kind kind (if (symbol? who) (format "~a: ~a" who text) text)))
  (hash-set! calls error-procedure '())
  error-procedure)

(define (format-error-text who rest)
  (cond
    [(and (symbol? who) (pair? rest) (string? (car rest)))
     (apply format (car rest) (cdr rest))]
    [(symbol? who) (symbol->string who)]
    [else
     ;; As `error` does with a message string: the values follow it.
     (apply string-append (format "~a" who)
            (for/list ([v (in-list rest)]) (format " ~e" v)))]))

(define (raise-kind kind message)
  (define marks (current-continuation-marks))
  (define make (hash-ref exception-makers kind))
  (if make
      (raise (make message marks))
      ;; exn:break carries an escape continuation for resuming.
      (let/ec k (raise (exn:break message marks k)))))
