#!/usr/bin/env bash
# Uploads one file with curl through the 2017 flow: log in as a dev user (embedded mode),
# ask for a v4 signature bound to a directory of your own, then POST the file to COS with
# op=upload and filecontent. Prints COS's JSON reply, whose data.source_url is the file.
#
#   bash upload-v4.sh http://127.0.0.1:8080 alice photos cat.jpg
#
# Needs curl and python3 (`json` reads one field of a JSON reply; `jq -r .FIELD` does the same).
set -euo pipefail
SERVER=${1:?usage: upload-v4.sh SERVER DEV_USER DIR FILE}
USER_NAME=${2:?dev user}
DIR=${3:?directory inside your prefix}
FILE=${4:?file}

json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

LOGIN=$(curl -fsS -XPOST "$SERVER/v1/auth/dev-login" -H 'content-type: application/json' \
        -d "{\"user\":\"$USER_NAME\"}")               # {"access_token": ..., "upload_prefix": ...}
TOKEN=$(echo "$LOGIN" | json access_token)
PREFIX=$(echo "$LOGIN" | json upload_prefix)          # this user's directory, /u/<user id>/
SIGN=$(curl -fsS "$SERVER/v1/qc_cos/config?cos_path=${PREFIX}${DIR}" \
        -H "Authorization: JWT $TOKEN")               # {"sign": ..., "upload_url": ...}
curl -fsS -XPOST "$(echo "$SIGN" | json upload_url)$(basename "$FILE")" \
     -H "Authorization: $(echo "$SIGN" | json sign)" -F op=upload -F "filecontent=@$FILE"
echo
