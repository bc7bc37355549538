#!/bin/bash
# SageMaker notebook-instance lifecycle, on every start (runs as root): the conda env lives on the
# persistent volume but Jupyter's kernel list does not, so register the env and our kernel again.
# Quick (seconds), well inside SageMaker's 5-minute limit.
set -eux
REPO_DIR="${REPO_DIR:-/home/ec2-user/SageMaker/convert-to-zarr}"
ENV_DIR=/home/ec2-user/SageMaker/.envs/convert-to-zarr
# The deployed stack's resources for the notebook and the ECS executor (lib/exec/ecs/config.ts,
# readStackConfig), put in by the CDK stack (infra/stack.ts) when it builds this script.
STACK_CONFIG='__STACK_CONFIG_JSON__'
if [ "${STACK_CONFIG#__}" = "$STACK_CONFIG" ]; then
  sudo -u ec2-user mkdir -p /home/ec2-user/SageMaker/.convert-to-zarr
  printf '%s\n' "$STACK_CONFIG" | sudo -u ec2-user tee /home/ec2-user/SageMaker/.convert-to-zarr/stack.json >/dev/null
fi
[ -d "$ENV_DIR" ] || exit 0   # on-create's background setup has not finished yet
sudo -u ec2-user -i bash -c "
  set -eux
  source /home/ec2-user/anaconda3/bin/activate '$ENV_DIR'
  cd '$REPO_DIR' && JUPYTER_DATA_DIR=/home/ec2-user/.local/share/jupyter bash kernel/install.sh
"
