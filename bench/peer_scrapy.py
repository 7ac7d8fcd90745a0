"""The fetching peer: Scrapy crawling the same sandbox pages with the same per-host concurrency.

    python bench/peer_scrapy.py <sandbox port> <urls file> <per-host concurrency> [asyncio]

Every URL (https://<host>/<path>) is requested from the sandbox at 127.0.0.1:<port> with its Host header; the
per-host limit is Scrapy's own (one download slot per host, `download_slot` = the site, its concurrency from
DOWNLOAD_SLOTS / CONCURRENT_REQUESTS_PER_DOMAIN), no delay. Each response is parsed for its title and mailto
links (the least a contact crawler does). Prints one JSON line: pages, seconds, pages_per_second, and the most
requests Scrapy itself had transferring in one slot.

The reactor (issue #15, the peer anomaly). Scrapy 2.19's default reactor is asyncio's
(TWISTED_REACTOR = AsyncioSelectorReactor). Under it the downloader does not hold a slot's concurrency:
`Downloader._process_queue` loops `while slot.queue and slot.free_transfer_slots() > 0`, scheduling each request
with `loop.create_task(...)`, but the request only enters `slot.transferring` when that task first runs, on a
later turn of the loop; so the loop never sees the slot fill up and sends the slot's whole queue at once (the
sandbox's counter saw 18 requests in flight for one host with a limit of 2, and Scrapy's own slot showed up to 9
transferring with `concurrency` 2). The `download_slot` meta is not the cause: the slots are the sites, each
with concurrency 2. With Twisted's own reactor (`Deferred.fromCoroutine` runs the coroutine at once, so the
request is counted before the loop looks again) the limit holds, so the peer runs on the epoll reactor; pass
`asyncio` to reproduce the anomaly.
"""
import json
import os
import sys
import time
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess

PORT, URLS_FILE, PER_HOST = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ASYNCIO = len(sys.argv) > 4 and sys.argv[4] == "asyncio"
REACTOR = ("twisted.internet.asyncioreactor.AsyncioSelectorReactor" if ASYNCIO
           else "twisted.internet.epollreactor.EPollReactor")
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
    most_transferring = 0  # Scrapy's own view: the most requests one slot had transferring at once

    async def start(self):  # Scrapy >= 2.13
        for url in URLS:
            parts = urlsplit(url)
            wire = f"http://127.0.0.1:{PORT}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
            # one download slot per site (Scrapy keys slots by the URL's host, here always 127.0.0.1)
            yield scrapy.Request(wire, headers={"Host": parts.hostname}, meta={"download_slot": parts.hostname},
                                 dont_filter=True, callback=self.parse)

    def parse(self, response):
        SandboxPages.pages += 1
        for slot in self.crawler.engine.downloader.slots.values():
            SandboxPages.most_transferring = max(SandboxPages.most_transferring, len(slot.transferring))
        yield {"title": response.css("title::text").get(), "emails": response.css("a[href^=mailto]::attr(href)").getall()}


process = CrawlerProcess(settings={"ITEM_PIPELINES": {}, "TWISTED_REACTOR": REACTOR})
started = time.perf_counter()
process.crawl(SandboxPages)
process.start()
seconds = time.perf_counter() - started
print(json.dumps({"pages": SandboxPages.pages, "seconds": round(seconds, 3),
                  "pages_per_second": round(SandboxPages.pages / seconds, 1), "reactor": REACTOR.rsplit(".", 1)[1],
                  "scrapy_most_transferring_per_slot": SandboxPages.most_transferring}))
