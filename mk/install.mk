# Installing the reference as a library: make install PREFIX=... DESTDIR=...

LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
VERSION = $(shell sed -n 's/^\#define SSLPORT_VERSION "\(.*\)"/\1/p' \
	ref/include/sslport.h)
MANPAGES = $(wildcard ref/man/*.3)

# sslport.pc names the directories of this install, so it is written anew
# by each one: a copy kept under $(BUILD) would name the first PREFIX.
install: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 0755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libsslport.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libsslport.so
	install -m 0644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 0644 ref/include/sslport.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		ref/sslport.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/sslport.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/sslport.pc
	$(if $(MANPAGES),install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man3/)

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsslport.so.$(SOVERSION) \
		$(DESTDIR)$(LIBDIR)/libsslport.so $(DESTDIR)$(LIBDIR)/libsslport.a \
		$(DESTDIR)$(INCLUDEDIR)/sslport.h \
		$(DESTDIR)$(PKGCONFIGDIR)/sslport.pc \
		$(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MANPAGES)))

.PHONY: install uninstall
