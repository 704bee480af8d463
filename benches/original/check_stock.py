"""The original system's Check-Stock function (the AWS lab stockwatch
replaces), as it ran: for each stream record whose new count is 0, look the
topic up and publish one message. Run against moto by benches/original.rs
over the same stream batches stockwatch's check-stock gets; reads a JSON
list of Lambda events on stdin, prints the handlers' own time in seconds."""

import json
import sys
import time

import boto3


def lambda_handler(event, context):
    for record in event["Records"]:
        new_image = record["dynamodb"].get("NewImage", None)
        if new_image:
            count = int(record["dynamodb"]["NewImage"]["Count"]["N"])
            if count == 0:
                store = record["dynamodb"]["NewImage"]["Store"]["S"]
                item = record["dynamodb"]["NewImage"]["Item"]["S"]
                message = store + " is out of stock of " + item
                print(message)
                sns = boto3.client("sns")
                alert_topic = "NoStock"
                sns_topic_arn = [
                    t["TopicArn"]
                    for t in sns.list_topics()["Topics"]
                    if t["TopicArn"].lower().endswith(":" + alert_topic.lower())
                ][0]
                # The lab's code also passed MessageStructure="raw", which
                # moto refuses (only "json" is a structure): left out.
                sns.publish(
                    TopicArn=sns_topic_arn,
                    Message=message,
                    Subject="Inventory Alert!",
                )
    return "Successfully processed {} records.".format(len(event["Records"]))


if __name__ == "__main__":
    events = json.load(sys.stdin)
    started = time.perf_counter()
    for event in events:
        lambda_handler(event, None)
    print(json.dumps({"seconds": time.perf_counter() - started}), file=sys.stderr)
