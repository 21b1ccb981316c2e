# Installing the reference as a library: make install PREFIX=... DESTDIR=...

LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
VERSION = $(shell sed -n 's/^\#define SSLPORT_VERSION "\(.*\)"/\1/p' \
	ref/include/sslport.h)
MANPAGES = $(wildcard ref/man/*.3)

$(BUILD)/sslport.pc: ref/sslport.pc.in ref/include/sslport.h
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		$< > $@

install: lib $(BUILD)/sslport.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 0755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libsslport.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libsslport.so
	install -m 0644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 0644 ref/include/sslport.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(BUILD)/sslport.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(if $(MANPAGES),install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man3/)

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsslport.so.$(SOVERSION) \
		$(DESTDIR)$(LIBDIR)/libsslport.so $(DESTDIR)$(LIBDIR)/libsslport.a \
		$(DESTDIR)$(INCLUDEDIR)/sslport.h \
		$(DESTDIR)$(PKGCONFIGDIR)/sslport.pc \
		$(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MANPAGES)))

.PHONY: install uninstall
