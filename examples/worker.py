"""The container in a plain asyncio worker (no web framework): jobs from a Redis list,
an agent per job, the same YAML with a `production` profile.

Run: .venv/bin/python examples/worker.py --profile production
(needs the local PostgreSQL and Redis; AWS Secrets Manager is emulated with moto unless
AWS_ENDPOINT_URL is set; the model is a local OpenAI-compatible stub.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _local_llm import local_llm

from oneringai import OneRingAI, StoredToken, tool
from oneringai.infrastructure.redis_client import make_redis_client
from oneringai.infrastructure.token_storage.encryption import generate_key

QUEUE = f"oneringai:example-jobs:{uuid.uuid4().hex[:6]}"


@tool
def lookup_order(order_id: str) -> dict[str, str]:
    """Status of an order."""
    return {"order_id": order_id, "status": "shipped"}


async def work(client: OneRingAI, redis_url: str, jobs: int) -> None:
    redis = make_redis_client(redis_url)
    try:
        names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
        for index in range(jobs):
            await redis.rpush(QUEUE, json.dumps({"id": index, "prompt": f"Where is order {names[index % 5]}?"}))
        while True:
            item = await redis.blpop([QUEUE], timeout=1)
            if item is None:
                break
            job = json.loads(item[1])
            agent = await client.agents.create(tools=[lookup_order], user_id=f"job-{job['id']}")
            response = await agent.run(job["prompt"])
            print(f"job {job['id']}: {response.output_text}")
    finally:
        await redis.delete(QUEUE)
        await redis.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default=None)
    parser.add_argument("--jobs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = None
    if args.profile == "production" and not os.environ.get("AWS_ENDPOINT_URL"):
        from moto.server import ThreadedMotoServer  # demo: emulate AWS locally

        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        os.environ.update({"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing"})
    os.environ.setdefault("ONERINGAI_TOKEN_KEY", generate_key())
    try:
        async with local_llm() as url:
            os.environ["LOCAL_LLM_URL"] = url
            config = Path(__file__).parent / "worker" / "default.yaml"
            async with OneRingAI.from_config(config, profile=args.profile) as client:
                print(f"token storage: {client.settings.oauth.storage.kind}; executor layers: "
                      f"{[layer.kind for layer in client.settings.tools.executor]}")
                await client.token_storage.store_token("partner_api:worker", StoredToken(access_token="demo", expires_in=60))
                print("stored keys:", await client.token_storage.list_keys("partner_api:"))
                await client.token_storage.delete_token("partner_api:worker")
                redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
                await work(client, redis_url, args.jobs)
    finally:
        if moto is not None:
            moto.stop()


if __name__ == "__main__":
    asyncio.run(main())
