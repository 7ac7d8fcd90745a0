"""The API clients of the load benchmark (bench/bench_load.py starts locust with this file, headless).

Each simulated client holds its own account's access token (minted once by the harness: the token
endpoint's per-IP throttle is tested elsewhere and would only measure itself here), reads list pages
with filters and ordering, and sets the curation status of 100 rows at a time.
"""
import json
import os
import random
from itertools import count

from locust import HttpUser, between, task

CLIENTS = json.loads(open(os.environ["LOAD_CLIENTS_FILE"]).read())  # [{"token": …, "ids": [...]}, …]
_next = count()


class ApiClient(HttpUser):
    wait_time = between(0.05, 0.2)

    def on_start(self):
        me = CLIENTS[next(_next) % len(CLIENTS)]
        self.client.headers["Authorization"] = f"Bearer {me['token']}"
        self.ids = me["ids"]
        self.pages = int(os.environ.get("LOAD_PLACE_PAGES", "50"))

    @task(4)
    def places_filtered(self):
        self.client.get("/api/v3/places/?deep_scan_curation_status=New&ordering=-rating",
                        name="/api/v3/places/?status&ordering")

    @task(2)
    def places_page(self):
        self.client.get(f"/api/v3/places/?page={random.randint(1, self.pages)}", name="/api/v3/places/?page=N")

    @task(2)
    def businesses_search(self):
        self.client.get("/api/v3/local-businesses/?search=Austin&ordering=name", name="/api/v3/local-businesses/?search")

    @task(2)
    def contacts(self):
        self.client.get("/api/v3/contacts/?kind=email&ordering=-last_seen_at", name="/api/v3/contacts/?kind")

    @task(1)
    def select_hundred(self):
        batch = random.sample(self.ids, min(100, len(self.ids)))
        with self.client.put("/api/v3/workflows/domain_extraction/status", json={"ids": batch, "status": "Selected"},
                             name="PUT /api/v3/workflows/domain_extraction/status", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
