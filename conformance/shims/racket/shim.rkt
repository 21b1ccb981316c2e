#lang racket/base
;; The sslport RPC shim over Racket's openssl library.  Run it from the
;; repository root (conformance/shims/registry.toml):
;;
;;   racket conformance/shims/racket/shim.rkt
;;
;; The suite starts a fresh shim for every test.  Loading the shim's
;; modules from source costs Racket about a second each time, compiled
;; code a quarter of that, so this entry point compiles them into
;; compiled/ (which git ignores) when that is missing or older than the
;; source, and then runs main.rkt.  It requires nothing beyond racket/base
;; so that it costs little itself.

(define here
  (let-values ([(dir name must-be-dir?)
                (split-path (variable-reference->module-source
                             (#%variable-reference)))])
    dir))

(define main-module (build-path here "main.rkt"))

(define (source-modules)
  (for/list ([name (in-list (directory-list here))]
             #:when (regexp-match? #rx"[.]rkt$" name)
             #:unless (equal? (path->string name) "shim.rkt"))
    name))

(define (stale? name)
  (define source (build-path here name))
  (define compiled (build-path here "compiled" (path-add-suffix name #".zo")))
  (or (not (file-exists? compiled))
      (< (file-or-directory-modify-seconds compiled)
         (file-or-directory-modify-seconds source))))

;; A tree that cannot be written (or any other failure to compile) only
;; costs speed: the modules then load from source.
(define (compile-if-stale!)
  (when (ormap stale? (source-modules))
    (with-handlers ([exn:fail?
                     (lambda (e)
                       (eprintf "sslport racket shim: running uncompiled: ~a\n"
                                (exn-message e)))])
      ((dynamic-require 'compiler/cm 'managed-compile-zo) main-module))))

(compile-if-stale!)
((dynamic-require main-module 'main))
