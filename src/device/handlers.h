/*
 * handlers.h - one function per AT command (layer: handlers, in
 * handlers_*.c). Handlers answer through the response and act through the
 * state, store and audit layers; they never call the session or framing,
 * nor one another's files.
 */
#ifndef THSM_DEVICE_HANDLERS_H
#define THSM_DEVICE_HANDLERS_H

#include "device/device.h"
#include "device/values.h"

typedef void thsm_handler(thsm_device *dev, const thsm_params *ps);

/* handlers_device.c */
thsm_handler thsm_h_at, thsm_h_reset, thsm_h_version, thsm_h_about,
    thsm_h_ready, thsm_h_host_key, thsm_h_serial, thsm_h_store_ok,
    thsm_h_decommission, thsm_h_status;
/* handlers_keys.c */
thsm_handler thsm_h_ca_new_cert, thsm_h_ca_cert, thsm_h_ca_info,
    thsm_h_signer_new_key, thsm_h_signer_new_cert, thsm_h_signer_cert,
    thsm_h_signer_info, thsm_h_signer_sign, thsm_h_signer_pubkey,
    thsm_h_cert_renew, thsm_h_signer_import, thsm_h_signer_cert_set,
    thsm_h_img_begin, thsm_h_img_data, thsm_h_img_end, thsm_h_img_abort;
/* handlers_pin.c */
thsm_handler thsm_h_auth, thsm_h_pin_set, thsm_h_logout, thsm_h_auth_so,
    thsm_h_so_pin_set, thsm_h_pin_unblock;
/* handlers_log.c */
thsm_handler thsm_h_log, thsm_h_log_ack, thsm_h_log_clear;
/* handlers_policy.c */
thsm_handler thsm_h_policy, thsm_h_policy_set, thsm_h_policy_lock;

#endif
