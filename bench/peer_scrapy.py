"""The fetching peer: Scrapy crawling the same sandbox pages with the same per-host concurrency.

    python bench/peer_scrapy.py <sandbox port> <urls file> <per-host concurrency>

Every URL (https://<host>/<path>) is requested from the sandbox at 127.0.0.1:<port> with its Host header; the
per-host limit is Scrapy's own (one download slot per host: CONCURRENT_REQUESTS_PER_DOMAIN), robots.txt obeyed,
no delay. Each response is parsed for its title and mailto links (the least a contact crawler does). Prints one
JSON line: pages, seconds, pages_per_second.
"""
import json
import os
import sys
import time
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess

PORT, URLS_FILE, PER_HOST = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
URLS = [line.strip() for line in open(URLS_FILE) if line.strip()]
HOSTS = {urlsplit(u).hostname for u in URLS}


class SandboxPages(scrapy.Spider):
    name = "sandbox_pages"
    custom_settings = {
        "CONCURRENT_REQUESTS": PER_HOST * len(HOSTS),  # never the bottleneck: only the per-host limit binds
        "CONCURRENT_REQUESTS_PER_DOMAIN": PER_HOST,
        # the slots are named after the sites (request.meta["download_slot"]): their limit, stated explicitly
        "DOWNLOAD_SLOTS": {host: {"concurrency": PER_HOST, "delay": 0} for host in HOSTS},
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,  # robots.txt is per host, and the hosts only exist behind the Host header
        "LOG_LEVEL": os.environ.get("SCRAPY_LOG", "ERROR"),
        "TELNETCONSOLE_ENABLED": False,
        "RETRY_ENABLED": False,
        "COOKIES_ENABLED": False,
    }
    pages = 0

    async def start(self):  # Scrapy >= 2.13
        for url in URLS:
            parts = urlsplit(url)
            wire = f"http://127.0.0.1:{PORT}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
            # one download slot per site (Scrapy keys slots by the URL's host, here always 127.0.0.1)
            yield scrapy.Request(wire, headers={"Host": parts.hostname}, meta={"download_slot": parts.hostname},
                                 dont_filter=True, callback=self.parse)

    def parse(self, response):
        SandboxPages.pages += 1
        yield {"title": response.css("title::text").get(), "emails": response.css("a[href^=mailto]::attr(href)").getall()}


process = CrawlerProcess(settings={"ITEM_PIPELINES": {}})
started = time.perf_counter()
process.crawl(SandboxPages)
process.start()
seconds = time.perf_counter() - started
print(json.dumps({"pages": SandboxPages.pages, "seconds": round(seconds, 3),
                  "pages_per_second": round(SandboxPages.pages / seconds, 1)}))
