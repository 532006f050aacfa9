# mbedTLS 2.28 from Debian's source package (scripts/fetch-mbedtls.sh), built
# with src/crypto/mbedtls/config/thsm_mbedtls_config.h for whatever toolchain
# the including project uses (host or arm-none-eabi).
#
# Defines: thsm_mbedtls (static library of mbedTLS itself) and
# thsm_crypto_mbedtls (TinyHSM's crypto headers implemented on it).
# THSM_MBEDTLS_PEM (ON on the host) lets thsm_x509_parse read PEM too.

get_filename_component(THSM_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
set(THSM_MBEDTLS_CACHE ${THSM_ROOT}/build/mbedtls-src CACHE PATH
    "Where scripts/fetch-mbedtls.sh keeps the mbedTLS source")
option(THSM_MBEDTLS_PEM "mbedTLS backend reads PEM certificates" ON)

set(THSM_MBEDTLS_DIR ${THSM_MBEDTLS_CACHE}/src)
if(NOT EXISTS ${THSM_MBEDTLS_DIR}/include/mbedtls/version.h)
  message(STATUS "Fetching the mbedTLS source into ${THSM_MBEDTLS_CACHE}")
  execute_process(
    COMMAND bash ${THSM_ROOT}/scripts/fetch-mbedtls.sh
            ${THSM_MBEDTLS_CACHE}
    RESULT_VARIABLE THSM_FETCH_RC)
  if(NOT THSM_FETCH_RC EQUAL 0)
    message(FATAL_ERROR "Could not fetch mbedTLS (see above); "
                        "run: bash scripts/fetch-mbedtls.sh ${THSM_MBEDTLS_CACHE}")
  endif()
endif()

# Only the modules the config enables; the rest would compile to nothing.
set(THSM_MBEDTLS_MODULES
    aes asn1parse asn1write base64 bignum cipher cipher_wrap constant_time
    ctr_drbg ecdsa ecp ecp_curves gcm hkdf hmac_drbg md memory_buffer_alloc oid
    pem pk pk_wrap pkcs5 pkparse pkwrite platform platform_util sha1 sha256
    x509 x509_create x509_crt x509write_crt)
list(TRANSFORM THSM_MBEDTLS_MODULES PREPEND ${THSM_MBEDTLS_DIR}/library/)
list(TRANSFORM THSM_MBEDTLS_MODULES APPEND .c)

set(THSM_CRYPTO_SRC_DIR ${THSM_ROOT}/src/crypto)
add_library(thsm_mbedtls STATIC ${THSM_MBEDTLS_MODULES})
target_include_directories(thsm_mbedtls SYSTEM PUBLIC
  ${THSM_MBEDTLS_DIR}/include ${THSM_CRYPTO_SRC_DIR}/mbedtls/config)
target_compile_definitions(thsm_mbedtls PUBLIC
  MBEDTLS_CONFIG_FILE="thsm_mbedtls_config.h"
  $<$<BOOL:${THSM_MBEDTLS_PEM}>:THSM_MBEDTLS_PEM>)
# Not our code: our warning flags are not its contract.
target_compile_options(thsm_mbedtls PRIVATE -w)

file(GLOB THSM_CRYPTO_MBEDTLS_SRC CONFIGURE_DEPENDS
     ${THSM_CRYPTO_SRC_DIR}/mbedtls/*.c)
add_library(thsm_crypto_mbedtls STATIC ${THSM_CRYPTO_MBEDTLS_SRC})
target_link_libraries(thsm_crypto_mbedtls PUBLIC thsm_mbedtls)
