"""Stands in for AWS running our sandbox container against a moto server: for each task the
registry starts, it runs the real entry point (`python -m registry.sandbox.runner`) with the
task's environment overrides, writes its stdout to CloudWatch Logs the way the awslogs driver
names streams, and stops the task as ECS does when the essential container exits. Tasks wait
while `hold` is set, so a test can kill a worker in the middle."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import httpx

ROOT = Path(__file__).resolve().parents[1]
CLUSTER, FAMILY, CONTAINER, LOG_GROUP, PREFIX = "sandbox", "sandbox", "sandbox", "/registry/sandbox", "sandbox"


def provision(endpoint: str) -> dict[str, str]:
    """Network, cluster, task definition and log group; returns the registry's settings for them."""
    # Tasks stay RUNNING until stopped (moto otherwise moves them along on every describe).
    httpx.post(f"{endpoint}/moto-api/state-manager/set-transition",
               json={"model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**9}}).raise_for_status()
    ec2, ecs, logs = (boto3.client(s) for s in ("ec2", "ecs", "logs"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="sandbox", Description="sandbox", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(
        family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="1024",
        containerDefinitions=[{"name": CONTAINER, "image": "registry:latest", "essential": True, "memory": 1024,
                               "cpu": 256, "command": ["python", "-m", "registry.sandbox.runner"],
                               "logConfiguration": {"logDriver": "awslogs", "options": {
                                   "awslogs-group": LOG_GROUP, "awslogs-stream-prefix": PREFIX}}}])
    logs.create_log_group(logGroupName=LOG_GROUP)
    return {"REGISTRY_SANDBOX": "fargate", "REGISTRY_FARGATE_CLUSTER": CLUSTER,
            "REGISTRY_FARGATE_TASK_DEFINITION": FAMILY, "REGISTRY_FARGATE_CONTAINER": CONTAINER,
            "REGISTRY_FARGATE_SUBNETS": subnet, "REGISTRY_FARGATE_SECURITY_GROUPS": group,
            "REGISTRY_FARGATE_LOG_GROUP": LOG_GROUP, "REGISTRY_FARGATE_LOG_STREAM_PREFIX": PREFIX,
            "REGISTRY_FARGATE_POLL_MAX_SECONDS": "0.5"}


def all_tasks() -> list[dict]:
    ecs = boto3.client("ecs")
    arns = [a for status in ("RUNNING", "STOPPED")
            for a in ecs.list_tasks(cluster=CLUSTER, desiredStatus=status)["taskArns"]]
    return ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []


class FakeFargate:
    def __init__(self) -> None:
        self.hold = threading.Event()
        self.done: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> FakeFargate:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        ecs = boto3.client("ecs")
        while not self._stop.wait(0.2):
            if self.hold.is_set():
                continue
            for arn in ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]:
                if arn not in self.done:
                    self._run(ecs, arn)
                    self.done.append(arn)

    def _run(self, ecs, arn: str) -> None:
        task = ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]
        overrides = task.get("overrides", {}).get("containerOverrides", [{}])[0].get("environment", [])
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **{e["name"]: e["value"] for e in overrides}}
        out = subprocess.run([sys.executable, "-m", "registry.sandbox.runner"], env=env, capture_output=True,
                             text=True, timeout=120)
        logs = boto3.client("logs")
        stream = f"{PREFIX}/{CONTAINER}/{arn.rsplit('/', 1)[-1]}"
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        now = int(time.time() * 1000)
        lines = (out.stdout + out.stderr).splitlines() or ["(no output)"]
        logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                            logEvents=[{"timestamp": now, "message": line} for line in lines])
        ecs.stop_task(cluster=CLUSTER, task=arn, reason="Essential container in task exited")
