"""Staff and what their roles allow: below both ``orders`` (the demo command creates users) and
``packing`` (the views check roles). Not a Django app: it has no models; the groups themselves are
created by a data migration of ``packing``."""
