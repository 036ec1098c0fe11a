"""Follows armlet's long-running operations with the Python SDK's own poller.

Reads a JSON list of operations ({"name", "method", "path", "body"}) from
standard input, sends each through azure-mgmt-core's ARMPipelineClient (the
client every azure-mgmt-* package and azure-ai-ml's REST clients are built
on) and follows its answer with azure-mgmt-core's ARMPolling, exactly as a
generated begin_* method does. Prints one JSON line per operation:
{"name", "ok", "status", "error"}; "status" is the poller's last status.

Environment: ARMLET_ARM_ENDPOINT, ARMLET_TOKEN (a bearer token for ARM),
ARMLET_API_VERSION is not used: each path carries its own api-version.
REQUESTS_CA_BUNDLE must name armlet's CA certificate.
"""

import json
import os
import sys

from azure.core.configuration import Configuration
from azure.core.pipeline.policies import HeadersPolicy
from azure.core.polling import LROPoller
from azure.core.rest import HttpRequest
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.polling.arm_polling import ARMPolling


def main():
    endpoint = os.environ["ARMLET_ARM_ENDPOINT"].rstrip("/")
    token = os.environ["ARMLET_TOKEN"]
    config = Configuration()
    config.headers_policy = HeadersPolicy({"Authorization": "Bearer " + token})
    client = ARMPipelineClient(base_url=endpoint, config=config)
    for op in json.load(sys.stdin):
        kwargs = {}
        if op.get("body") is not None:
            kwargs["json"] = json.loads(op["body"])
        result = {"name": op["name"], "ok": False, "status": "", "error": ""}
        try:
            initial = client.send_request(
                HttpRequest(op["method"], endpoint + op["path"], **kwargs),
                _return_pipeline_response=True,
            )
            code = initial.http_response.status_code
            if code >= 400:
                raise RuntimeError(f"initial response {code}: {initial.http_response.text()}")
            poller = LROPoller(
                client,
                initial,
                lambda pipeline_response: pipeline_response.http_response.status_code,
                ARMPolling(timeout=0.1),
            )
            poller.result(timeout=60)
            result["status"] = poller.status()
            result["ok"] = poller.done() and poller.status().lower() == "succeeded"
        except Exception as e:  # pylint: disable=broad-except
            result["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
