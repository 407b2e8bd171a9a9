"""Provider adapters: one abstract interface per channel kind (``base``), concrete
providers beside it (``sandbox`` now; Meta, SMS and email adapters later), one error tree
(``errors``) and the provider-neutral events they report (``events``)."""
