#!/bin/sh
# SPDX-License-Identifier: ISC
# Real BIRD 2.17 (Debian 13 bird2, tests/lib/bird-root.sh) through the client; see
# bird_real_common.sh.
BIRD_VERSION=2.17
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/bird_real_common.sh"
