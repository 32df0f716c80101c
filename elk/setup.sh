#!/bin/sh
# One-shot setup of the ELK stack for jwt-login (docker-compose service `elk-setup`; POSIX sh, it runs in the
# curlimages/curl image, which has no bash):
#   1. waits for Elasticsearch, then installs the ILM policies   (elasticsearch/ilm/<name>.json             -> PUT _ilm/policy/<name>)
#      and the composable index templates                       (elasticsearch/index-templates/<name>.json -> PUT _index_template/<name>);
#   2. waits for Kibana, then imports the data view, the Lens visualizations and the dashboard
#      (kibana/saved-objects.ndjson -> POST /api/saved_objects/_import?overwrite=true) and makes the data view the
#      default one.
# Idempotent: every step is a PUT or an import with overwrite, so a re-run converges to the same state.
# While a service is starting (no answer, 408, 429, 5xx) a step is retried every RETRY_INTERVAL_SECONDS, until
# SETUP_TIMEOUT_SECONDS after the start in all; any other answer is an error at once. Exit 0 when everything is in
# place, 1 with a message naming the failed step otherwise.
set -eu

ES_URL=${ELASTICSEARCH_URL:-http://elasticsearch:9200}
KIBANA_URL=${KIBANA_URL:-http://kibana:5601}
ASSETS=${ELK_ASSETS_DIR:-$(dirname "$0")}
TIMEOUT=${SETUP_TIMEOUT_SECONDS:-300}
RETRY_INTERVAL=${RETRY_INTERVAL_SECONDS:-5}
DATA_VIEW_ID=jwt-login-logs

log() {
  printf 'elk-setup: %s\n' "$*"
}

fail() {
  printf 'elk-setup: FAILED: %s\n' "$*" >&2
  exit 1
}

case $TIMEOUT in '' | *[!0-9]*) fail "SETUP_TIMEOUT_SECONDS must be a whole number of seconds, got '$TIMEOUT'" ;; esac
case $RETRY_INTERVAL in '' | *[!0-9]*) fail "RETRY_INTERVAL_SECONDS must be a whole number, got '$RETRY_INTERVAL'" ;; esac
command -v curl >/dev/null 2>&1 || fail 'curl is not installed'

deadline=$(($(date +%s) + TIMEOUT))
body=$(mktemp)
errors=$(mktemp)
trap 'rm -f "$body" "$errors"' EXIT

# The first 1000 bytes of the last answer, on one line, for messages.
last_answer() {
  tr '\n' ' ' <"$body" | cut -c 1-1000
}

# call STEP PATTERN METHOD URL [curl options...]
# Sends the request until it gets a 2xx answer whose body matches the extended regular expression PATTERN (empty:
# any body). Retries while the service is not up yet: no connection, 408 (a wait_for_status timeout), 429, 5xx, or a
# 2xx whose body does not match yet; fails at once on any other status (a broken asset does not mend by waiting), or
# when the deadline has passed.
call() {
  step=$1
  pattern=$2
  method=$3
  url=$4
  shift 4
  attempt=0
  while :; do
    attempt=$((attempt + 1))
    status=$(curl -sS -o "$body" -w '%{http_code}' --connect-timeout 5 --max-time 60 -X "$method" "$@" "$url" \
      2>"$errors") || true
    case $status in
      2??)
        if [ -z "$pattern" ] || grep -Eq "$pattern" "$body"; then
          return 0
        fi
        reason="HTTP $status, not ready yet: $(last_answer)"
        ;;
      000 | '') reason="no answer from $url: $(tr '\n' ' ' <"$errors")" ;;
      408 | 429 | 5??) reason="HTTP $status: $(last_answer)" ;;
      *) fail "$step: $method $url answered HTTP $status: $(last_answer)" ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
      fail "$step: not done within ${TIMEOUT}s (SETUP_TIMEOUT_SECONDS) after $attempt attempts; last: $reason"
    fi
    if [ "$attempt" -eq 1 ] || [ $((attempt % 6)) -eq 0 ]; then
      log "$step: waiting ($reason)"
    fi
    sleep "$RETRY_INTERVAL"
  done
}

# put_each KIND API_PATH DIRECTORY: PUT every DIRECTORY/<name>.json to API_PATH/<name>.
put_each() {
  kind=$1
  api_path=$2
  directory=$3
  found=0
  for file in "$directory"/*.json; do
    [ -f "$file" ] || continue
    found=$((found + 1))
    name=$(basename "$file" .json)
    call "$kind $name" '"acknowledged" *: *true' PUT "$ES_URL/$api_path/$name" \
      -H 'Content-Type: application/json' --data-binary "@$file"
    log "$kind $name installed"
  done
  [ "$found" -gt 0 ] || fail "no $kind in $directory"
}

for asset in elasticsearch/ilm elasticsearch/index-templates kibana/saved-objects.ndjson; do
  [ -e "$ASSETS/$asset" ] || fail "$ASSETS/$asset is missing (ELK_ASSETS_DIR=$ASSETS)"
done

log "waiting for Elasticsearch at $ES_URL (up to ${TIMEOUT}s in all)"
call 'Elasticsearch health' '"status" *: *"(green|yellow)"' GET \
  "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=5s"
log 'Elasticsearch is up'

# Policies first: the templates name them.
put_each 'ILM policy' _ilm/policy "$ASSETS/elasticsearch/ilm"
put_each 'index template' _index_template "$ASSETS/elasticsearch/index-templates"

log "waiting for Kibana at $KIBANA_URL"
call 'Kibana status' '"overall" *: *\{[^{}]*"level" *: *"available"' GET "$KIBANA_URL/api/status"
log 'Kibana is available'

call 'saved objects import' '"success" *: *(true|false)' POST \
  "$KIBANA_URL/api/saved_objects/_import?overwrite=true" \
  -H 'kbn-xsrf: true' --form "file=@$ASSETS/kibana/saved-objects.ndjson"
grep -Eq '"success" *: *true' "$body" || fail "saved objects import reported errors: $(last_answer)"
imported=$(grep -Eo '"successCount" *: *[0-9]+' "$body" | grep -Eo '[0-9]+$' || echo '?')
log "saved objects imported ($imported): data view, visualizations and dashboard"

call 'default data view' '' POST "$KIBANA_URL/api/data_views/default" \
  -H 'kbn-xsrf: true' -H 'Content-Type: application/json' \
  --data "{\"data_view_id\":\"$DATA_VIEW_ID\",\"force\":true}"
log "default data view: $DATA_VIEW_ID"

log "done. Dashboard: $KIBANA_URL/app/dashboards#/view/jwt-login-security (from the host: http://127.0.0.1:5601)"
