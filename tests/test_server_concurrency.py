"""Twenty clients submitting at once: every job is accepted, runs once and
comes back to the client that submitted it."""

import threading

from magic_client import MagicClient
from server_fixtures import TINY, make_job_inputs

CLIENTS = 20


def test_twenty_concurrent_clients_every_job_accounted_for(magic_server):
    width, height = 48, 40
    barrier = threading.Barrier(CLIENTS)
    outcomes, errors = {}, []

    def one_client(index):
        try:
            # Each client sends a different image, so a mixed-up result would show.
            image, source, target = make_job_inputs(width, height, (4, 4, 18, 18), (26, 20, 40, 34), seed=index)
            with MagicClient.connect(magic_server.runtime_file, timeout=30) as client:
                barrier.wait(timeout=60)
                job = client.submit(width, height, image, source, target,
                                    params=dict(TINY, iterations=2, variants=1, seed=index))
                events = []
                result = client.wait(job, on_event=events.append, timeout=300)
                outcomes[index] = (job, result, events, image)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append((index, repr(exc)))

    threads = [threading.Thread(target=one_client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=400)
    assert not errors, errors
    assert sorted(outcomes) == list(range(CLIENTS))
    job_ids = {job for job, *_ in outcomes.values()}
    assert len(job_ids) == CLIENTS

    positions = []
    for index, (job, result, events, image) in outcomes.items():
        assert result.job_id == job and result.params["seed"] == index
        assert [e["type"] for e in events].count("done") == 1
        assert all(e.get("job") == job for e in events)
        accepted = next(e for e in events if e["type"] == "accepted")
        positions.append(accepted["queue_position"])
        mask, layer = result.edit_mask, result.layers[0]
        outside = next(i for i in range(width * height) if mask[i] == 0)
        assert layer[4 * outside:4 * outside + 4] == image[4 * outside:4 * outside + 4]
    assert max(positions) >= 5  # they really were queued together

    with magic_server.client() as client:
        listed = {j["id"]: j["state"] for j in client.jobs()}
    assert all(listed[job] == "done" for job in job_ids)
