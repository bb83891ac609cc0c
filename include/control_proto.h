/* SPDX-License-Identifier: ISC */
/*
 * control_proto.h - the agent's control-socket protocol, shared by the
 * daemon (control.c), anycastctl and the tests. Documented again in
 * anycastctl(8) so `socat` + `jq` work too.
 *
 * A Unix stream socket (control.socket, mode control.mode, group
 * control.group). Newline-delimited JSON: one request object per line, one
 * response object per line, several requests in sequence on one connection.
 *
 * Requests:
 *   {"verb":"status"}
 *   {"verb":"drain","announcements":["web"],"reason":"maintenance","for":3600,"wait":60}
 *       announcements empty or absent: all; "for" seconds (absent: until undrained);
 *       reason required, 1..CONTROL_REASON_MAX bytes; "wait" seconds (absent: answer at
 *       once): answer only once every named announcement is DRAINED (drain_time over) and
 *       BIRD has confirmed each of its protocols disabled, or with wait_timeout
 *   {"verb":"undrain","announcements":["web"]}     (empty or absent: all drained ones)
 *   {"verb":"check","name":"web"}     run now; the response comes when the run finishes
 *   {"verb":"reload"}
 * Responses: {"ok":true, ...} or {"ok":false,"error":"human text","code":"CODE", ...}
 *   status  -> {"ok":true,"status":SNAPSHOT}   (status.h documents SNAPSHOT)
 *   drain   -> {"ok":true,"announcements":[names affected]}
 *              with wait: {"ok":true,"announcements":[...],"withdrawn":true,"waited":SECONDS}
 *              or {"ok":false,"code":"wait_timeout","announcements":[...],"withdrawn":false}
 *              (not confirmed in time, undrained or removed meanwhile, or the agent stops;
 *              the drain itself is in effect)
 *   undrain -> {"ok":true,"announcements":[names affected]}
 *   check   -> {"ok":true,"check":CHECK (as in the snapshot, after the run)}
 *   reload  -> {"ok":true,"kept_checks":N,"checks":M}
 *           or {"ok":false,"code":"reload_failed","errors":["file:line: msg",...]}
 *
 * Authorisation (SO_PEERCRED): status for anyone who can connect; drain,
 * undrain, check and reload need uid 0 or membership of control.admin_group
 * (the peer process's primary or supplementary group when it connected,
 * SO_PEERGROUPS). Otherwise "denied".
 *
 * Limits: a request line longer than CONTROL_REQUEST_MAX gets
 * request_too_large and the connection is closed; a connection that does not
 * complete a request within CONTROL_IDLE_TIMEOUT seconds of connecting or of
 * its last response is closed; beyond CONTROL_MAX_CLIENTS connections a new one
 * gets "busy" and is closed; a client whose unread responses exceed
 * CONTROL_WRITE_QUEUE_MAX bytes is dropped.
 */
#ifndef AA_CONTROL_PROTO_H
#define AA_CONTROL_PROTO_H

#define CONTROL_PROTO_VERSION   1
#define CONTROL_REQUEST_MAX     (64 * 1024)
#define CONTROL_IDLE_TIMEOUT    5.0
#define CONTROL_MAX_CLIENTS     512
#define CONTROL_WRITE_QUEUE_MAX (4 * 1024 * 1024)
#define CONTROL_REASON_MAX      200

/* Error codes ("code" of an error response). */
#define CONTROL_E_BAD_REQUEST          "bad_request"
#define CONTROL_E_REQUEST_TOO_LARGE    "request_too_large"
#define CONTROL_E_UNKNOWN_VERB         "unknown_verb"
#define CONTROL_E_DENIED               "denied"
#define CONTROL_E_UNKNOWN_ANNOUNCEMENT "unknown_announcement"
#define CONTROL_E_UNKNOWN_CHECK        "unknown_check"
#define CONTROL_E_BUSY                 "busy"
#define CONTROL_E_RELOAD_FAILED        "reload_failed"
#define CONTROL_E_INTERNAL             "internal"
#define CONTROL_E_WAIT_TIMEOUT         "wait_timeout"

#endif
