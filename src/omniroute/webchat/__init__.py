"""Web chat (the "Embed"): the visitor API under ``/widget/v1``, the widget's script and
service worker, live delivery to open widgets (``broker``) and Web Push to the others."""
