"""Response exports beyond the API's own JSON and CSV: extra filters and FLOIP packages."""
