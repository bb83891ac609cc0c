#!/bin/sh
# SPDX-License-Identifier: ISC
# Real BIRD 1.6 (Debian bird, unpacked privately) through the client; see
# bird_real_common.sh.
BIRD_VERSION=1.6
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/bird_real_common.sh"
