#!/bin/sh
# SPDX-License-Identifier: ISC
# Real BIRD 3.1 (Debian 13 bird3, tests/lib/bird-root.sh) through the client; see
# bird_real_common.sh.
BIRD_VERSION=3.1
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/bird_real_common.sh"
