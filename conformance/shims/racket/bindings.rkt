#lang racket/base
;; The documented bindings of openssl, openssl/sha1, openssl/md5,
;; openssl/libcrypto and openssl/libssl that Racket 8.7 has, by their
;; documented names (shared/bindings.md).  ssl-set-keylogger! came in
;; 8.7.0.8 and is not here, so the shim answers `unimplemented` for it.

(require ffi/unsafe
         (only-in racket/contract/base
                  contract-name flat-contract-predicate)
         openssl
         openssl/sha1
         openssl/md5
         openssl/libcrypto
         openssl/libssl)

(provide binding-procedures
         binding-values
         openssl-version-text)

(define-syntax-rule (by-name id ...)
  (make-immutable-hash (list (cons (symbol->string 'id) id) ...)))

;; Procedures, and the one parameter, ssl-default-verify-sources: called
;; with no argument it reads, with one it sets (see shim.rkt for where).
(define binding-procedures
  (by-name
   ;; 1. Client
   ssl-connect ssl-connect/enable-break ssl-secure-client-context
   ssl-make-client-context supported-client-protocols ssl-client-context?
   ssl-max-client-protocol ssl-protocol-version
   ;; 2. Server
   ssl-listen ssl-close ssl-listener? ssl-accept ssl-accept/enable-break
   ssl-abandon-port ssl-addresses ssl-port? ssl-make-server-context
   ssl-server-context? supported-server-protocols ssl-max-server-protocol
   ;; 3. Wrapping ports
   ports->ssl-ports
   ;; 4. Contexts
   ssl-load-verify-source! ssl-default-verify-sources
   ssl-load-default-verify-sources! ssl-load-verify-root-certificates!
   ssl-set-ciphers! ssl-seal-context! ssl-load-certificate-chain!
   ssl-load-private-key! ssl-load-suggested-certificate-authorities!
   ssl-server-context-enable-dhe! ssl-server-context-enable-ecdhe!
   ssl-set-server-name-identification-callback! ssl-set-server-alpn!
   ;; 5. Peer verification
   ssl-set-verify! ssl-try-verify! ssl-peer-verified? ssl-set-verify-hostname!
   ssl-peer-certificate-hostnames ssl-peer-check-hostname
   ssl-peer-subject-name ssl-peer-issuer-name ssl-default-channel-binding
   ssl-channel-binding ssl-get-alpn-selected
   ;; 6-7. Hashing
   sha1 sha1-bytes md5 md5-bytes bytes->hex-string hex-string->bytes))

;; Values, read with the `value` op.  Each is a thunk so that a library
;; object is looked at when asked for.
(define binding-values
  (hash "ssl-available?" (lambda () ssl-available?)
        "ssl-load-fail-reason" (lambda () ssl-load-fail-reason)
        "ssl-protocol-symbol/c" (lambda () (protocol-symbols))
        "ssl-dh4096-param-bytes" (lambda () ssl-dh4096-param-bytes)
        "libcrypto" (lambda () libcrypto)
        "libcrypto-load-fail-reason" (lambda () libcrypto-load-fail-reason)
        "openssl-lib-versions" (lambda () openssl-lib-versions)
        "libssl" (lambda () libssl)
        "libssl-load-fail-reason" (lambda () libssl-load-fail-reason)))

;; A contract has no JSON form: answer the symbols it accepts.  They are
;; read from the contract's own name, (or/c 'secure 'auto ...), and each is
;; checked against the contract, so the list is the library's, not ours.
(define (protocol-symbols)
  (define accepts? (flat-contract-predicate ssl-protocol-symbol/c))
  (define name (contract-name ssl-protocol-symbol/c))
  (define symbols
    (for/list ([part (in-list (if (pair? name) (cdr name) '()))]
               #:when (and (pair? part) (eq? (car part) 'quote)))
      (cadr part)))
  (unless (and (pair? symbols) (andmap accepts? symbols))
    (error 'ssl-protocol-symbol/c "cannot list the symbols of ~s" name))
  symbols)

;; OpenSSL's own version text, for hello; #f when libcrypto is not loaded
;; or lacks OpenSSL_version (older than 1.1).
(define (openssl-version-text)
  (define version
    (and libcrypto
         (get-ffi-obj "OpenSSL_version" libcrypto (_fun _int -> _string)
                      (lambda () #f))))
  ;; 0 is OPENSSL_VERSION, the full text.
  (and version (version 0)))
