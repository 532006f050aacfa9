/*
 * funclist.c - the function list. The functions TinyHSM does not offer
 * answer CKR_FUNCTION_NOT_SUPPORTED (their stubs below were generated from
 * the parameter lists in p11-kit's pkcs11.h).
 */
#include "pkcs11/module.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

#define NONE(name, args) \
    static CK_RV none_##name args { return CKR_FUNCTION_NOT_SUPPORTED; }

NONE(C_InitToken, (CK_SLOT_ID slot_id, unsigned char *pin, unsigned long pin_len, unsigned char *label))
NONE(C_GetOperationState, (CK_SESSION_HANDLE session, unsigned char *operation_state, unsigned long *operation_state_len))
NONE(C_SetOperationState, (CK_SESSION_HANDLE session, unsigned char *operation_state, unsigned long operation_state_len, CK_OBJECT_HANDLE encryption_key, CK_OBJECT_HANDLE authentiation_key))
NONE(C_CreateObject, (CK_SESSION_HANDLE session, CK_ATTRIBUTE *templ, unsigned long count, CK_OBJECT_HANDLE *object))
NONE(C_CopyObject, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *templ, unsigned long count, CK_OBJECT_HANDLE *new_object))
NONE(C_DestroyObject, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object))
NONE(C_GetObjectSize, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, unsigned long *size))
NONE(C_SetAttributeValue, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *templ, unsigned long count))
NONE(C_EncryptInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
NONE(C_Encrypt, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len, unsigned char *encrypted_data, unsigned long *encrypted_data_len))
NONE(C_EncryptUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len, unsigned char *encrypted_part, unsigned long *encrypted_part_len))
NONE(C_EncryptFinal, (CK_SESSION_HANDLE session, unsigned char *last_encrypted_part, unsigned long *last_encrypted_part_len))
NONE(C_DecryptInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
NONE(C_Decrypt, (CK_SESSION_HANDLE session, unsigned char *encrypted_data, unsigned long encrypted_data_len, unsigned char *data, unsigned long *data_len))
NONE(C_DecryptUpdate, (CK_SESSION_HANDLE session, unsigned char *encrypted_part, unsigned long encrypted_part_len, unsigned char *part, unsigned long *part_len))
NONE(C_DecryptFinal, (CK_SESSION_HANDLE session, unsigned char *last_part, unsigned long *last_part_len))
NONE(C_DigestInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism))
NONE(C_Digest, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len, unsigned char *digest, unsigned long *digest_len))
NONE(C_DigestUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len))
NONE(C_DigestKey, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key))
NONE(C_DigestFinal, (CK_SESSION_HANDLE session, unsigned char *digest, unsigned long *digest_len))
NONE(C_SignRecoverInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
NONE(C_SignRecover, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len, unsigned char *signature, unsigned long *signature_len))
NONE(C_VerifyInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
NONE(C_Verify, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len, unsigned char *signature, unsigned long signature_len))
NONE(C_VerifyUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len))
NONE(C_VerifyFinal, (CK_SESSION_HANDLE session, unsigned char *signature, unsigned long signature_len))
NONE(C_VerifyRecoverInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
NONE(C_VerifyRecover, (CK_SESSION_HANDLE session, unsigned char *signature, unsigned long signature_len, unsigned char *data, unsigned long *data_len))
NONE(C_DigestEncryptUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len, unsigned char *encrypted_part, unsigned long *encrypted_part_len))
NONE(C_DecryptDigestUpdate, (CK_SESSION_HANDLE session, unsigned char *encrypted_part, unsigned long encrypted_part_len, unsigned char *part, unsigned long *part_len))
NONE(C_SignEncryptUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len, unsigned char *encrypted_part, unsigned long *encrypted_part_len))
NONE(C_DecryptVerifyUpdate, (CK_SESSION_HANDLE session, unsigned char *encrypted_part, unsigned long encrypted_part_len, unsigned char *part, unsigned long *part_len))
NONE(C_GenerateKey, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_ATTRIBUTE *templ, unsigned long count, CK_OBJECT_HANDLE *key))
NONE(C_WrapKey, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key, unsigned char *wrapped_key, unsigned long *wrapped_key_len))
NONE(C_UnwrapKey, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE unwrapping_key, unsigned char *wrapped_key, unsigned long wrapped_key_len, CK_ATTRIBUTE *templ, unsigned long attribute_count, CK_OBJECT_HANDLE *key))
NONE(C_DeriveKey, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE base_key, CK_ATTRIBUTE *templ, unsigned long attribute_count, CK_OBJECT_HANDLE *key))
NONE(C_SeedRandom, (CK_SESSION_HANDLE session, unsigned char *seed, unsigned long seed_len))
NONE(C_GenerateRandom, (CK_SESSION_HANDLE session, unsigned char *random_data, unsigned long random_len))
static CK_RV none_C_GetFunctionStatus(CK_SESSION_HANDLE session) { return CKR_FUNCTION_NOT_PARALLEL; }
static CK_RV none_C_CancelFunction(CK_SESSION_HANDLE session) { return CKR_FUNCTION_NOT_PARALLEL; }
NONE(C_WaitForSlotEvent, (CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved))

static CK_FUNCTION_LIST function_list = {
    {CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR},
    C_Initialize,
    C_Finalize,
    C_GetInfo,
    C_GetFunctionList,
    C_GetSlotList,
    C_GetSlotInfo,
    C_GetTokenInfo,
    C_GetMechanismList,
    C_GetMechanismInfo,
    none_C_InitToken,
    C_InitPIN,
    C_SetPIN,
    C_OpenSession,
    C_CloseSession,
    C_CloseAllSessions,
    C_GetSessionInfo,
    none_C_GetOperationState,
    none_C_SetOperationState,
    C_Login,
    C_Logout,
    none_C_CreateObject,
    none_C_CopyObject,
    none_C_DestroyObject,
    none_C_GetObjectSize,
    C_GetAttributeValue,
    none_C_SetAttributeValue,
    C_FindObjectsInit,
    C_FindObjects,
    C_FindObjectsFinal,
    none_C_EncryptInit,
    none_C_Encrypt,
    none_C_EncryptUpdate,
    none_C_EncryptFinal,
    none_C_DecryptInit,
    none_C_Decrypt,
    none_C_DecryptUpdate,
    none_C_DecryptFinal,
    none_C_DigestInit,
    none_C_Digest,
    none_C_DigestUpdate,
    none_C_DigestKey,
    none_C_DigestFinal,
    C_SignInit,
    C_Sign,
    C_SignUpdate,
    C_SignFinal,
    none_C_SignRecoverInit,
    none_C_SignRecover,
    none_C_VerifyInit,
    none_C_Verify,
    none_C_VerifyUpdate,
    none_C_VerifyFinal,
    none_C_VerifyRecoverInit,
    none_C_VerifyRecover,
    none_C_DigestEncryptUpdate,
    none_C_DecryptDigestUpdate,
    none_C_SignEncryptUpdate,
    none_C_DecryptVerifyUpdate,
    none_C_GenerateKey,
    C_GenerateKeyPair,
    none_C_WrapKey,
    none_C_UnwrapKey,
    none_C_DeriveKey,
    none_C_SeedRandom,
    none_C_GenerateRandom,
    none_C_GetFunctionStatus,
    none_C_CancelFunction,
    none_C_WaitForSlotEvent,
};

CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list)
{
    if (!list)
        return CKR_ARGUMENTS_BAD;
    *list = &function_list;
    return CKR_OK;
}
