#lang racket/base
;; Loggers for the base ops make-logger, logger-messages and log-messages.
;;
;; shim.rkt requires this module before the openssl library, so that the
;; receiver on the process-wide logger exists before the library is
;; instantiated and can see anything it logs while loading.

(provide make-recorded-logger
         logger-messages
         log-messages)

;; Receivers keep what they are sent until it is taken, so the messages are
;; drained when asked for, under a lock, rather than by a thread: an answer
;; then holds every message sent before the request, in order.
(struct recorder (receiver [messages #:mutable] lock))

(define (make-recorder logger level)
  (recorder (make-log-receiver logger level) '() (make-semaphore 1)))

(define (recorded-messages r)
  (call-with-semaphore
   (recorder-lock r)
   (lambda ()
     (let drain ()
       (define v (sync/timeout 0 (recorder-receiver r)))
       (when v
         (set-recorder-messages! r (cons (message->list v)
                                         (recorder-messages r)))
         (drain)))
     (reverse (recorder-messages r)))))

;; A receiver gets (vector level message data topic); the protocol wants
;; [level, topic, message, data], with no topic as null.
(define (message->list v)
  (define topic (and (> (vector-length v) 3) (vector-ref v 3)))
  (list (vector-ref v 0)
        (or topic (void))
        (vector-ref v 1)
        (vector-ref v 2)))

;; Warnings and worse from everything that logs to the root logger
;; (spec/rpc.md, section 9: "log-messages").
(define process-recorder (make-recorder (current-logger) 'warning))

(define (log-messages)
  (recorded-messages process-recorder))

;; Loggers made for the suite record every level, 'debug included.
(define recorders (make-weak-hasheq))

(define (make-recorded-logger)
  (define logger (make-logger))
  (hash-set! recorders logger (make-recorder logger 'debug))
  logger)

(define (logger-messages logger)
  (define r (hash-ref recorders logger #f))
  (unless r
    (raise-argument-error 'logger-messages
                          "a logger made by make-logger" logger))
  (recorded-messages r))
