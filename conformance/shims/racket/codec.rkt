#lang racket/base
;; The value codec of the RPC protocol (spec/rpc.md, section 5), and the
;; table of handles that stands for every object that cannot travel by value.
;;
;; JSON comes from the `json` library: objects are hasheq tables with symbol
;; keys and JSON null is the symbol 'null.

(require racket/tcp
         ffi/unsafe
         openssl
         (only-in openssl/sha1 bytes->hex-string))

(provide decode
         encode
         (struct-out json-object)
         handle-object
         release-handle!
         kept-objects
         contract-failure)

;; A result that is already JSON, answered as it is (hello's object).
(struct json-object (value))

(define (contract-failure fmt . args)
  (raise (exn:fail:contract (apply format fmt args)
                            (current-continuation-marks))))

;; ---------------------------------------------------------------------------
;; Handles.  One object always has the same handle, so the table is keyed by
;; eq?; a semaphore guards it because requests run on many threads.

(define handle-lock (make-semaphore 1))
(define ids-by-object (make-hasheq))
(define objects-by-id (make-hash))
(define next-id 1)

(define (handle-of v)
  (call-with-semaphore
   handle-lock
   (lambda ()
     (or (hash-ref ids-by-object v #f)
         (let ([id (format "h~a" next-id)])
           (set! next-id (add1 next-id))
           (hash-set! ids-by-object v id)
           (hash-set! objects-by-id id v)
           id)))))

(define (handle-object id)
  (define v (call-with-semaphore
             handle-lock
             (lambda () (hash-ref objects-by-id id unknown))))
  (when (eq? v unknown)
    (contract-failure "sslport shim: unknown handle: ~a" id))
  v)

;; A unique value, so that #f can be kept behind a handle if need be.
(define unknown (string->uninterned-symbol "unknown"))

(define (release-handle! v)
  (call-with-semaphore
   handle-lock
   (lambda ()
     (define id (hash-ref ids-by-object v #f))
     (when id
       (hash-remove! ids-by-object v)
       (hash-remove! objects-by-id id)))))

(define (kept-objects)
  (call-with-semaphore handle-lock
                       (lambda () (hash-keys ids-by-object))))

;; Objects answered as handles; anything else the codec cannot carry is
;; answered as opaque text.
(define (kept? v)
  (or (port? v)
      (procedure? v)
      (ssl-context? v)
      (ssl-listener? v)
      (tcp-listener? v)
      (logger? v)
      (log-receiver? v)
      (ffi-lib? v)
      (thread? v)
      (evt? v)))

;; ---------------------------------------------------------------------------
;; Decoding: JSON from the harness -> Racket values.

(define (decode j)
  (cond
    [(eq? j 'null) (void)]
    [(list? j) (map decode j)]
    [(hash? j) (decode-tagged j)]
    [else j]))

(define (decode-tagged h)
  (unless (= 1 (hash-count h))
    (contract-failure "sslport shim: not a protocol value: ~s" h))
  (define-values (tag payload)
    (values (car (hash-keys h)) (car (hash-values h))))
  (case tag
    [(bytes) (decode-hex payload)]
    [(symbol) (if (string? payload)
                  (string->symbol payload)
                  (contract-failure "sslport shim: bad symbol: ~s" h))]
    [(eof) (if (eq? payload #t)
               eof
               (contract-failure "sslport shim: bad eof: ~s" h))]
    [(handle) (if (string? payload)
                  (handle-object payload)
                  (contract-failure "sslport shim: bad handle: ~s" h))]
    [else (contract-failure "sslport shim: cannot pass ~s to this shim" h)]))

;; Either case is accepted (spec/rpc.md, section 5).  One pass by hand:
;; the library's hex-string->bytes and a regexp check both take seconds on
;; the megabyte inputs of the hashing tests.
(define (decode-hex text)
  (unless (and (string? text) (even? (string-length text)))
    (contract-failure "sslport shim: bad hex bytes: ~s" text))
  (define out (make-bytes (quotient (string-length text) 2)))
  (for ([i (in-range (bytes-length out))])
    (define high (hex-digit (string-ref text (* 2 i)) text))
    (define low (hex-digit (string-ref text (add1 (* 2 i))) text))
    (bytes-set! out i (+ (* 16 high) low)))
  out)

(define (hex-digit c text)
  (cond
    [(char<=? #\0 c #\9) (- (char->integer c) 48)]
    [(char<=? #\a c #\f) (- (char->integer c) 87)]
    [(char<=? #\A c #\F) (- (char->integer c) 55)]
    [else (contract-failure "sslport shim: bad hex bytes: ~s" text)]))

;; ---------------------------------------------------------------------------
;; Encoding: Racket values -> JSON for the harness.

(define (encode v)
  (cond
    [(json-object? v) (json-object-value v)]
    [(void? v) 'null]
    [(boolean? v) v]
    [(exact-integer? v) v]
    [(and (real? v) (rational? v)) (exact->inexact v)]
    [(string? v) v]
    [(path? v) (path->string v)]
    [(bytes? v) (hasheq 'bytes (bytes->hex-string v))]
    [(symbol? v) (hasheq 'symbol (symbol->string v))]
    [(eof-object? v) (hasheq 'eof #t)]
    [(list? v) (map encode v)]
    [(kept? v) (hasheq 'handle (handle-of v))]
    [else (hasheq 'opaque (format "~s" v))]))
