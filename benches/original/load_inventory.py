"""The original system's Load-Inventory function (the AWS lab stockwatch
replaces), as it ran: download the object, then one PutItem per row, in
sequence. Run against moto by benches/original.rs as the yardstick of the
AWS loader; prints the handler's own time in seconds (not Python's start)."""

import csv
import json
import os
import sys
import time
import urllib.parse

import boto3

s3 = boto3.client("s3")
dynamodb = boto3.resource("dynamodb")
inventory_table = dynamodb.Table(os.environ["TABLE"])


def lambda_handler(event, context):
    bucket = event["Records"][0]["s3"]["bucket"]["name"]
    key = urllib.parse.unquote_plus(event["Records"][0]["s3"]["object"]["key"])
    local_filename = "/tmp/inventory-%d.txt" % os.getpid()
    s3.download_file(bucket, key, local_filename)
    row_count = 0
    with open(local_filename) as csvfile:
        reader = csv.DictReader(csvfile, delimiter=",")
        for row in reader:
            row_count += 1
            try:
                inventory_table.put_item(
                    Item={"Store": row["store"], "Item": row["item"], "Count": int(row["count"])}
                )
            except Exception as e:
                print(e)
                print("Unable to insert data into DynamoDB table")
    return "%d counts inserted" % row_count


if __name__ == "__main__":
    event = {"Records": [{"s3": {"bucket": {"name": sys.argv[1]}, "object": {"key": sys.argv[2]}}}]}
    started = time.perf_counter()
    result = lambda_handler(event, None)
    print(json.dumps({"seconds": time.perf_counter() - started, "result": result}))
