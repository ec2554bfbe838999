#!/bin/sh
# Entry point of the workbench container. As root, it gives the user "workbench" the owner of the
# mounted runs/ directory (or, when root owns the volumes, the volumes to "workbench"), then goes
# on as that user. Commands:
#   jupyter   Jupyter on $JUPYTER_IP:$JUPYTER_PORT (default 0.0.0.0:8888) with $JUPYTER_TOKEN, or a
#             fresh token printed with the URL
#   anything else runs as given (e.g. ./notebooks/run.sh, workbench train ...)
set -eu
cd /home/workbench/attnbench
if [ "$(id -u)" = 0 ]; then
	mkdir -p runs figures notebooks
	owner=$(stat -c %u runs)
	if [ "$owner" != 0 ] && [ "$owner" != "$(id -u workbench)" ]; then
		groupmod -o -g "$(stat -c %g runs)" workbench
		usermod -o -u "$owner" workbench # also gives it the home directory and its caches
	fi
	for d in runs figures notebooks; do
		[ "$(stat -c %u "$d")" = "$(id -u workbench)" ] || chown -R workbench:workbench "$d"
	done
	export HOME=/home/workbench USER=workbench
	exec setpriv --reuid=workbench --regid=workbench --init-groups "$0" "$@"
fi

if [ "${1:-jupyter}" = jupyter ]; then
	port=${JUPYTER_PORT:-8888}
	token=${JUPYTER_TOKEN:-}
	[ -n "$token" ] || token=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
	echo "attnbench workbench: open http://127.0.0.1:$port/tree?token=$token"
	exec /usr/bin/jupyter notebook --no-browser --ip="${JUPYTER_IP:-0.0.0.0}" --port="$port" --port-retries=0 \
		--NotebookApp.token="$token" --notebook-dir=/home/workbench/attnbench
fi
exec "$@"
