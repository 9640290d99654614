"""Where a sandbox run happens in production: an AWS Fargate task (boto3 ECS `run_task`) whose
container runs `python -m registry.sandbox.runner`. The task's ARN is recorded before any
waiting, so a re-run (the worker died) adopts the same task, or stops it once its time is up.
Polls back off up to `fargate_poll_max_seconds`; the logs and report come from CloudWatch Logs
(the awslogs driver: stream `{prefix}/{container}/{task id}`)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import StorageError
from ..meta import Run
from .base import Outcome, split_output

if TYPE_CHECKING:
    from ..settings import Settings


class FargateBackend:
    name = "fargate"

    def __init__(self, settings: Settings, stage_input: Callable[[Run, dict[str, Any]], dict[str, str]],
                 ecs: Any = None, logs: Any = None):
        self.settings = settings
        self.stage_input = stage_input  # -> the container environment that points at the input
        self.ecs = ecs or boto3.client("ecs")
        self.logs = logs or boto3.client("logs")

    def execute(self, run: Run, payload: dict[str, Any], record_task: Callable[[str], None]) -> Outcome:
        timeout = self.settings.sandbox_timeout_seconds
        started = run.started_at or time.time()
        try:
            arn = run.task_arn or self._started_by(run)
            if arn is None:
                arn = self._run_task(run, self.stage_input(run, payload))
            record_task(arn)
            task = self._wait(arn, started + timeout)
            if task is None:
                self.ecs.stop_task(cluster=self.settings.fargate_cluster, task=arn,
                                   reason=f"sandbox timeout after {timeout:g} s")
                return Outcome(None, f"killed: still running after {timeout:g} s (task stopped)",
                               round(time.time() - started, 3), None, None, self._logs(arn))
            return self._outcome(task, started)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"ECS: {exc}") from exc  # transient for the check: retried, then an error

    def _run_task(self, run: Run, env: dict[str, str]) -> str:
        s = self.settings
        network = {"subnets": s.split(s.fargate_subnets),
                   "assignPublicIp": "ENABLED" if s.fargate_assign_public_ip else "DISABLED"}
        if s.split(s.fargate_security_groups):
            network["securityGroups"] = s.split(s.fargate_security_groups)
        env = {**env, "SANDBOX_TIMEOUT_SECONDS": str(int(s.sandbox_timeout_seconds)),
               "SANDBOX_MEMORY_MB": str(s.sandbox_memory_mb)}
        response = self.ecs.run_task(
            cluster=s.fargate_cluster, taskDefinition=s.fargate_task_definition, launchType="FARGATE", count=1,
            startedBy=_started_by(run), networkConfiguration={"awsvpcConfiguration": network},
            overrides={"containerOverrides": [{"name": s.fargate_container,
                                               "environment": [{"name": k, "value": v} for k, v in env.items()]}]})
        if not response.get("tasks"):
            reasons = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}".strip() for f in response.get("failures", []))
            raise StorageError(f"ECS did not start the task: {reasons or 'no reason given'}")
        arn: str = response["tasks"][0]["taskArn"]
        return arn

    def _started_by(self, run: Run) -> str | None:
        """A task started for this run whose ARN never got recorded (the worker died in between)."""
        for status in ("RUNNING", "STOPPED"):
            arns = self.ecs.list_tasks(cluster=self.settings.fargate_cluster, startedBy=_started_by(run),
                                       desiredStatus=status).get("taskArns", [])
            if arns:
                arn: str = arns[0]
                return arn
        return None

    def _wait(self, arn: str, deadline: float) -> dict[str, Any] | None:
        pause = 0.2
        while True:
            found = self.ecs.describe_tasks(cluster=self.settings.fargate_cluster, tasks=[arn]).get("tasks", [])
            if not found:
                raise StorageError(f"task {arn} is gone")
            if found[0].get("lastStatus") == "STOPPED":
                task: dict[str, Any] = found[0]
                return task
            if time.time() >= deadline:
                return None
            time.sleep(min(pause, max(0.0, deadline - time.time())))
            pause = min(pause * 2, self.settings.fargate_poll_max_seconds)

    def _outcome(self, task: dict[str, Any], started: float) -> Outcome:
        arn = task["taskArn"]
        report, logs, problem = split_output(self._logs(arn))
        begun, ended = task.get("startedAt"), task.get("stoppedAt")
        duration = (ended - begun).total_seconds() if begun and ended else time.time() - started
        container: dict[str, Any] = next(
            (c for c in task.get("containers", []) if c.get("name") == self.settings.fargate_container), {})
        code = container.get("exitCode")
        metrics = (report or {}).get("metrics") or {}
        error = None
        if report is None:
            reason = task.get("stoppedReason") or container.get("reason") or problem
            error = f"the task ended without a report: {reason} (exit code {code})"[:300]
        return Outcome(report, error, round(duration, 3), metrics.get("cpu_s"), metrics.get("peak_memory_mb"), logs)

    def _logs(self, arn: str) -> str:
        s = self.settings
        stream = f"{s.fargate_log_stream_prefix}/{s.fargate_container}/{arn.rsplit('/', 1)[-1]}"
        lines: list[str] = []
        token = None
        try:
            while True:
                kwargs = {"nextToken": token} if token else {"startFromHead": True}
                page = self.logs.get_log_events(logGroupName=s.fargate_log_group, logStreamName=stream, **kwargs)
                lines += [event["message"] for event in page.get("events", [])]
                if not page.get("events") or page.get("nextForwardToken") == token:
                    return "\n".join(lines)
                token = page.get("nextForwardToken")
        except self.logs.exceptions.ResourceNotFoundException:
            return "\n".join(lines)  # the container never wrote a line


def _started_by(run: Run) -> str:
    return f"run-{run.id}"[:36]
