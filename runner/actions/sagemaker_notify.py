"""Notifications for an async endpoint: SNS success/error topics and the runner's SQS queue.

SageMaker publishes to the topics; the queue, subscribed with raw delivery and a
policy that lets only those topics send, is what the run's `ResultWaiter` reads.
Every resource is ledgered before it is created and tagged with the run id.
"""

from __future__ import annotations

import json
from typing import Any

from runner.actions import s3 as s3_actions
from runner.actions.aws import call, clients
from runner.actions.sagemaker_names import derived_name, sm_tags
from runner.engine.context import StepContext


def setup_notifications(ctx: StepContext, endpoint: str) -> dict[str, Any]:
    """SNS success/error topics and one SQS queue subscribed to both (raw delivery).

    `subscriptions` lists the queue's subscriptions as SNS reports them afterwards
    (`confirmed`: not PendingConfirmation), the seed's "confirmation received".
    """
    aws = clients(ctx)
    sns, sqs = aws.client("sns"), aws.client("sqs")
    tags = sm_tags(ctx)
    arns: dict[str, str] = {}
    for kind in ("success", "error"):
        name = derived_name(endpoint, f"-{kind}", 256)
        arn = f"arn:{aws.partition}:sns:{aws.region}:{aws.account}:{name}"
        ctx.run.ledger.record("sns:topic", arn, aws.region)
        arns[kind] = call(f"create topic {name}", sns.create_topic, Name=name, Tags=tags)[
            "TopicArn"
        ]
    queue_name = derived_name(endpoint, "-results", 80)
    ctx.run.ledger.record("sqs:queue", queue_name, aws.region)
    queue_url = call(
        f"create queue {queue_name}",
        sqs.create_queue,
        QueueName=queue_name,
        Attributes={"MessageRetentionPeriod": "3600", "ReceiveMessageWaitTimeSeconds": "0"},
        tags=s3_actions.run_tags(ctx),
    )["QueueUrl"]
    queue_arn = f"arn:{aws.partition}:sqs:{aws.region}:{aws.account}:{queue_name}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": list(arns.values())}},
            }
        ],
    }
    call(
        "set queue policy",
        sqs.set_queue_attributes,
        QueueUrl=queue_url,
        Attributes={"Policy": json.dumps(policy)},
    )
    for arn in arns.values():
        sub = call(
            f"subscribe queue to {arn}",
            sns.subscribe,
            TopicArn=arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True,
        )
        ctx.run.ledger.record("sns:subscription", sub["SubscriptionArn"], aws.region)
    return {
        "success_topic": arns["success"],
        "error_topic": arns["error"],
        "queue_url": queue_url,
        "subscriptions": queue_subscriptions(sns, list(arns.values()), queue_arn),
    }


def queue_subscriptions(sns: Any, topics: list[str], queue_arn: str) -> list[dict[str, Any]]:
    """The queue's subscriptions to `topics`, listed back from SNS (not assumed)."""
    found = []
    for topic in topics:
        subs = call(
            f"list subscriptions of {topic}", sns.list_subscriptions_by_topic, TopicArn=topic
        )
        for sub in subs.get("Subscriptions", []):
            if sub.get("Endpoint") == queue_arn:
                arn = str(sub.get("SubscriptionArn", ""))
                found.append(
                    {
                        "topic": topic,
                        "protocol": sub.get("Protocol"),
                        "confirmed": arn.startswith("arn:"),
                    }
                )
    return found
