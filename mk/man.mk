# The manual pages in ref/man/ (mdoc(7)).  Each page documents a group of
# functions named in its NAME section; `make install` adds a link for each
# other name (tools/manlinks), so that `man sslport_accept` finds the page
# of sslport_connect, and `make uninstall` takes the links away again.
# `make man-lint` checks the pages with mandoc.

.PHONY: install-man-links uninstall-man-links man-lint

install: install-man-links
uninstall: uninstall-man-links

install-man-links:
	install -d $(DESTDIR)$(MANDIR)/man3
	tools/manlinks ref/man | while read -r page link; do \
		ln -sf $$page $(DESTDIR)$(MANDIR)/man3/$$link || exit 1; done

uninstall-man-links:
	tools/manlinks ref/man | while read -r page link; do \
		rm -f $(DESTDIR)$(MANDIR)/man3/$$link; done

man-lint:
	@tools/deps check docs
	mandoc -T lint -W warning ref/man/*.3
