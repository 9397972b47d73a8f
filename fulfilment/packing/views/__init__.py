"""The dashboard's views, by who uses them: ``site`` (start page, health, language), ``queue``,
``order`` and ``actions`` (the packer), ``sheets`` (printed pages), ``digital`` (keys for digital
goods), ``supervisor``. Views translate requests into calls of the packing rules and their results
into pages; an htmx request gets the named partial it swaps, any other a page or a redirect."""
