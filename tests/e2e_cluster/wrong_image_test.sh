#!/usr/bin/env bash
# A LoadTest whose agent image does not exist: the kubelet's pull fails and it
# retries with back-off. The run shows that as the AgentsReady condition (reason
# ImagePullBackOff, the kubelet's error in the message) while it waits, and after
# spec.timeouts.agentsReady (20 s here) it ends Failed with reason
# AgentImageUnavailable and the image error; not on the first ErrImagePull.
# The image names the registry "localhost": the pull goes to loopback only.
source "$(dirname "$0")/lib.sh"
test_namespace e2e-image
image=localhost/herd-no-such-image:e2e
start=$SECONDS
loadtest badimage 4 10s "agentTemplate: {image: $image, imagePullPolicy: IfNotPresent}" |
  sed 's/agentsReady: 60s/agentsReady: 20s/' | k apply -n "$NS" -f - >/dev/null

backing_off() {
  [[ $(lt_field badimage '{.status.conditions[?(@.type=="AgentsReady")].reason}') == ImagePullBackOff ]]
}
if poll 20 "AgentsReady reason ImagePullBackOff" backing_off; then
  msg=$(lt_field badimage '{.status.conditions[?(@.type=="AgentsReady")].message}')
  seen=$((SECONDS - start))
  [[ $msg == *"$image"* || $msg == *ImagePull* ]] && ok "condition while waiting (${seen}s): $msg" ||
    fail "AgentsReady message without the image error: $msg"
  [[ $(lt_phase badimage) != Failed ]] && ok "still waiting after the first pull error" ||
    fail "failed on the first pull error"
else
  fail "no ImagePullBackOff condition: $(k get lt -n "$NS" badimage -o jsonpath='{.status.conditions}')"
fi
wait_complete badimage 120 || { fail "badimage did not end"; finish; }
took=$((SECONDS - start))
[[ $PHASE == Failed ]] && ok "phase Failed" || fail "phase $PHASE"
[[ $REASON == AgentImageUnavailable ]] && ok "reason AgentImageUnavailable" || fail "reason $REASON"
message=$(lt_field badimage '{.status.message}')
[[ $message == *ImagePull* ]] && ok "message: $message" || fail "message without the pull error: $message"
((took >= 20 && took <= 90)) && ok "ended after ${took}s (timeout 20s)" || fail "ended after ${took}s"
finish
