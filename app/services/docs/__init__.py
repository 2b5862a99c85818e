"""Everything that speaks the ONLYOFFICE Docs protocol: JWT, signed links, the client for the
command and conversion services, safe fetches, editor configs, callbacks, history, forgotten
files and document keys."""
