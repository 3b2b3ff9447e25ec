"""How long does a consumer take to decode one Kafka message? Prints µs per decode.

`python -m bench.decoding [--rounds 20000]`: every event type's sample (tests/unit/
test_event_contracts.py) as `to_kafka` writes it, decoded by `from_kafka` (the headers read
directly) and, alternating in the same run, by the cloudevents SDK's reading it falls back to.
No Kafka, no database.
"""

import argparse
import time

from shared.events.envelope import Envelope, _from_kafka_with_sdk, from_kafka, to_kafka


def _messages() -> list[tuple]:
    from tests.unit.test_event_contracts import SAMPLES

    out = []
    for event in SAMPLES.values():
        topic, headers, value, key = to_kafka(Envelope(event, stream_version=3, causation_id="cause"))
        out.append((headers, key.encode(), value, topic))
    return out


def _per_decode(decode, messages: list[tuple], rounds: int) -> float:
    count = 0
    started = time.perf_counter()
    while count < rounds:
        for message in messages:
            decode(*message)
        count += len(messages)
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20_000)
    rounds = parser.parse_args().rounds
    messages = _messages()
    direct, sdk = [], []
    for _ in range(3):  # alternated, so both see the same load
        sdk.append(_per_decode(_from_kafka_with_sdk, messages, rounds))
        direct.append(_per_decode(from_kafka, messages, rounds))
    print(f"{len(messages)} event types; µs per decode (best of 3 x {rounds})")
    print(f"  cloudevents SDK + model_validate : {min(sdk):6.1f}")
    print(f"  headers read directly (from_kafka): {min(direct):6.1f}   ({min(sdk) / min(direct):.1f}x)")


if __name__ == "__main__":
    main()
