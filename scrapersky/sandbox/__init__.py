"""The offline sandbox: local stand-ins, over real HTTP on loopback, for what
ScraperSky talks to on the internet (Google Places API (New), business
websites, CRMs, webhooks). `make run` uses it when no API key is set; the tests
use it instead of mocks."""
