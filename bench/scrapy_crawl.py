"""Scrapy crawling the generated sites through the local web (run in a subprocess by bench/crawl.py)."""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess

LOC = re.compile(rb"<loc>\s*([^<\s]+)\s*</loc>")


def _local(url: str) -> str:
    # The local web speaks plain http only; our client also maps https to http on 127.0.0.1.
    return "http://" + url.split("://", 1)[1]


class GeneratedSitesSpider(scrapy.Spider):
    """Sitemap index -> monthly shards -> articles, the same walk our backfill does; one item per article."""

    name = "generated"

    def __init__(self, hosts: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hosts = [h for h in hosts.split(",") if h]
        self.pages = 0
        self.started = 0.0
        self.finished = 0.0

    async def start(self) -> Any:
        self.started = time.perf_counter()
        for host in self.hosts:
            yield scrapy.Request(f"http://{host}/sitemap.xml", callback=self.parse_index)

    def parse_index(self, response: scrapy.http.Response) -> Iterator[scrapy.Request]:
        for loc in LOC.findall(response.body):
            yield scrapy.Request(_local(loc.decode()), callback=self.parse_shard)

    def parse_shard(self, response: scrapy.http.Response) -> Iterator[scrapy.Request]:
        for loc in LOC.findall(response.body):
            yield scrapy.Request(_local(loc.decode()), callback=self.parse_article)

    def parse_article(self, response: scrapy.http.Response) -> Iterator[dict[str, Any]]:
        self.pages += 1
        self.finished = time.perf_counter()
        yield {
            "url": response.url,
            "title": response.css("meta[property='og:title']::attr(content)").get(),
            "text": " ".join(response.css("div.article-content p::text").getall()),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", required=True, help="comma-separated generated hosts")
    parser.add_argument("--proxy", required=True, help="http://127.0.0.1:PORT of the local web")
    parser.add_argument("--delay", type=float, required=True)
    parser.add_argument("--user-agent", required=True)
    args = parser.parse_args()
    # The local web accepts absolute-form request targets, so it works as Scrapy's HTTP proxy: Scrapy keeps
    # the real hostname in the URL (one download slot, i.e. one politeness queue, per host).
    os.environ["http_proxy"] = args.proxy
    os.environ.pop("no_proxy", None)
    os.environ.pop("NO_PROXY", None)
    settings = {
        "DOWNLOAD_DELAY": args.delay,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "CONCURRENT_REQUESTS": 16,
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": False,
        "USER_AGENT": args.user_agent,
        "LOG_LEVEL": "ERROR",
        "TELNETCONSOLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "COOKIES_ENABLED": False,
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(GeneratedSitesSpider)
    process.crawl(crawler, hosts=args.hosts)
    process.start()
    spider = crawler.spider
    assert isinstance(spider, GeneratedSitesSpider)
    print(json.dumps({"pages": spider.pages, "seconds": spider.finished - spider.started}))


if __name__ == "__main__":
    main()
