"""Web survey pages, the public entry, the in-person kit (QR posters) and the development
simulator."""
