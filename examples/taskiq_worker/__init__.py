"""Agent runs on a distributed task queue: taskiq workers consuming from RabbitMQ, results in Redis.

    # workers (two processes; each builds one OneRingAI client from worker.yaml at start):
    taskiq worker examples.taskiq_worker.tasks:broker --workers 2 --ack-type when_saved \
        --max-async-tasks 10 --wait-tasks-timeout 20 --shutdown-timeout 5
    # an API that enqueues runs and reads their results:
    uvicorn examples.taskiq_worker.app:app

See docs/scaling.md for what the workers share (Postgres, Redis, RabbitMQ) and what they must not.
"""
