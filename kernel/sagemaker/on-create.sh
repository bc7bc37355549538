#!/bin/bash
# SageMaker notebook-instance lifecycle, on create (runs as root, once). SageMaker stops a lifecycle
# script after 5 minutes, so the slow part (conda env, npm ci, build) runs in the background as
# ec2-user with nohup; progress is in /home/ec2-user/SageMaker/convert-to-zarr-setup.log.
# REPO_ARCHIVE: the repository as deployed (an S3 asset zip), put in by the CDK stack (infra/stack.ts).
set -eux
REPO_DIR="${REPO_DIR:-/home/ec2-user/SageMaker/convert-to-zarr}"
ENV_DIR=/home/ec2-user/SageMaker/.envs/convert-to-zarr   # on the persistent volume: survives restarts
REPO_ARCHIVE='__REPO_ARCHIVE_URL__'
sudo -u ec2-user -i nohup bash -c "
  set -eux
  source /home/ec2-user/anaconda3/bin/activate
  if [ ! -d '$REPO_DIR' ] && [ '${REPO_ARCHIVE#__}' = '$REPO_ARCHIVE' ]; then
    aws s3 cp '$REPO_ARCHIVE' /tmp/convert-to-zarr.zip
    python3 -m zipfile -e /tmp/convert-to-zarr.zip '$REPO_DIR' && rm /tmp/convert-to-zarr.zip
  fi
  [ -d '$ENV_DIR' ] || conda env create -q -p '$ENV_DIR' -f '$REPO_DIR/environment.yml'
  conda activate '$ENV_DIR'
  cd '$REPO_DIR' && npm ci --no-audit --no-fund --ignore-scripts && bash tools/build-native.sh && npm run build
  CONDA_PREFIX='$ENV_DIR' bash kernel/install.sh
" > /home/ec2-user/SageMaker/convert-to-zarr-setup.log 2>&1 &
