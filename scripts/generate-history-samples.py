#!/usr/bin/env python3
"""Writes samples/history/day-01.csv … day-14.csv: two weeks of daily
snapshots of the six sample stores, for trends and stock-out forecasts.

Seeded, so running it again writes the same files. Each item sells a
Poisson-distributed number of units a day around a rate of its own
(busier on weekends); Berlin's Echo Dot is restocked on day 8. Counts
end at the sample files' (samples/inventory-*.csv), so some items run
out, some are low, and two (selling fast) are predicted to run out within
three days.

    python3 scripts/generate-history-samples.py
    stockwatch upload --spread 1d samples/history/*.csv
"""

import csv
import math
import pathlib
import random

DAYS = 14
ROOT = pathlib.Path(__file__).resolve().parent.parent
random.seed(20261130)

# Two items that sell fast enough to run out within three days of the last
# snapshot while still above their threshold: the SOON alerts and the
# console's runs-out-soon view have something to show.
FAST = {("Berlin", "Echo Look"): 4.5, ("Karachi", "Amazon Tap"): 2.5}


def poisson(mean):
    """Knuth's method: fine for the small means here."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= random.random()
        if p <= limit:
            return k
        k += 1


def main():
    items = []  # (store, item, final count from the sample file)
    for sample in sorted((ROOT / "samples").glob("inventory-*.csv")):
        with open(sample, newline="") as f:
            for row in csv.DictReader(f):
                items.append((row["store"], row["item"], int(row["count"])))

    # Each item's daily sales, then its counts walked back from the end.
    series = {}
    for store, item, final in items:
        rate = random.uniform(0.5, 3.0)
        rate = FAST.get((store, item), rate)
        sales = [poisson(rate * (1.5 if day % 7 in (5, 6) else 0.8)) for day in range(DAYS)]
        restock_day = 8 if (store, item) == ("Berlin", "Echo Dot") else None
        counts = [0] * DAYS
        counts[-1] = final
        for day in range(DAYS - 2, -1, -1):
            # What it had the day before: plus what sold since, minus a restock.
            before = counts[day + 1] + sales[day + 1]
            if day + 1 == restock_day:
                before = max(2, before - 40)
            counts[day] = before
        if final == 0:
            # Ran out a few days ago: zero since, sales stopped with the shelf empty.
            out_since = random.randint(DAYS - 4, DAYS - 2)
            for day in range(out_since, DAYS):
                counts[day] = 0
            for day in range(out_since - 1, -1, -1):
                counts[day] = counts[day + 1] + max(1, sales[day + 1])
        series[(store, item)] = counts

    out = ROOT / "samples" / "history"
    out.mkdir(exist_ok=True)
    for day in range(DAYS):
        with open(out / f"day-{day + 1:02}.csv", "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["store", "item", "count"])
            for store, item, _ in items:
                writer.writerow([store, item, series[(store, item)][day]])
    print(f"wrote {DAYS} files of {len(items)} rows to {out}")


if __name__ == "__main__":
    main()
