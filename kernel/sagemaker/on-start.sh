#!/bin/bash
# SageMaker notebook-instance lifecycle, on every start (runs as root): the conda env lives on the
# persistent volume but Jupyter's kernel list does not, so register the env and our kernel again.
# Quick (seconds), well inside SageMaker's 5-minute limit.
set -eux
REPO_DIR="${REPO_DIR:-/home/ec2-user/SageMaker/convert-to-zarr}"
ENV_DIR=/home/ec2-user/SageMaker/.envs/convert-to-zarr
[ -d "$ENV_DIR" ] || exit 0   # on-create's background setup has not finished yet
sudo -u ec2-user -i bash -c "
  set -eux
  source /home/ec2-user/anaconda3/bin/activate '$ENV_DIR'
  cd '$REPO_DIR' && JUPYTER_DATA_DIR=/home/ec2-user/.local/share/jupyter bash kernel/install.sh
"
