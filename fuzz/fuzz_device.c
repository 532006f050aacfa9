/*
 * fuzz_device.c - arbitrary bytes into the device core over an in-memory
 * port: framing, parameter parsing, every handler, two connections.
 *
 * Input bytes go to connection A; each 0x01 byte switches to the other
 * connection. Every answer must have the shape the host tools rely on and
 * must never be silently cut:
 *   - it starts with OK or ERROR and ends with exactly one empty line;
 *   - it fits the response buffer;
 *   - "OK <len> <hex>" carries exactly 2*len hex digits;
 *   - a PEM certificate parses;
 *   - a PIN parameter's text never appears in an answer (probed at the end
 *     with PINs that contain spaces);
 *   - a signature (the answer to AT+SIGNER_SIGN or AT+IMG_END) is never
 *     out before its record: the last record is SIGN, or SIGN_SB10 /
 *     SIGN_MCUBOOT right after the IMAGE record naming the same format.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/audit.h"
#include "device/device.h"
#include "port/mem/port_mem.h"

#define PIN_PROBE "fuzzpin-77"

static int probing; /* the answers now are to PIN probes */

static void require(int ok)
{
    if (!ok)
        abort();
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
           (c >= 'a' && c <= 'f');
}

/* "OK <decimal> <hex>" on the first line: the hex is exactly 2*len. */
static void check_len_hex(const char *line, size_t n)
{
    size_t i = 3, len = 0, digits = 0;
    if (n < 3 || memcmp(line, "OK ", 3) != 0)
        return;
    for (; i < n && line[i] >= '0' && line[i] <= '9'; i++)
        len = len * 10 + (size_t)(line[i] - '0'), digits++;
    if (!digits || digits > 6 || i >= n || line[i] != ' ')
        return;
    size_t start = ++i;
    while (i < n && is_hex(line[i]))
        i++;
    if (i != n || i == start)
        return; /* not a length and hex (e.g. the log's three numbers) */
    require(i - start == 2 * len);
}

/* A PEM block in the answer parses as a certificate. */
static void check_pem(const char *data, size_t len)
{
    static char pem[THSM_PROTO_ANSWER_MAX];
    const char *begin = memmem(data, len, "-----BEGIN CERTIFICATE-----", 27);
    if (!begin)
        return;
    const char *end = memmem(begin, len - (size_t)(begin - data),
                             "-----END CERTIFICATE-----", 25);
    require(end != NULL);
    size_t n = 0;
    for (const char *p = begin; p < end + 25; p++)
        if (*p != '\r')
            pem[n++] = *p;
    pem[n++] = '\n';
    thsm_x509_info info;
    require(thsm_x509_parse((const uint8_t *)pem, n, &info) == 0);
}

/* Whether record i of the log has event ev (and, when result is given,
 * that result). */
static int record_is(thsm_device *dev, uint32_t i, const char *ev,
                     const char *result)
{
    static char rec[THSM_LOG_RECORD + 1];
    if (thsm_audit_read(dev, i, 1, rec) != 0)
        return 0;
    size_t n = strlen(ev);
    return memcmp(rec + THSM_LOG_EVENT_AT, ev, n) == 0 &&
           rec[THSM_LOG_EVENT_AT + n] == ' ' &&
           (!result || memcmp(rec + THSM_LOG_RESULT_AT, result,
                              strlen(result)) == 0);
}

/* "OK <70..72> <hex>": a DER ECDSA signature (certificates are longer). */
static int is_signature(const char *data)
{
    return strncmp(data, "OK 7", 4) == 0 && data[4] >= '0' && data[4] <= '2' &&
           data[5] == ' ';
}

/* A signature answered has its records already written. */
static void check_signature_recorded(thsm_device *dev)
{
    uint32_t last = dev->log_count - 1;
    require(dev->log_count > 0);
    if (record_is(dev, last, THSM_EV_SIGN, NULL))
        return;
    require(last > 0);
    require((record_is(dev, last, THSM_EV_SIGN_SB10, NULL) &&
             record_is(dev, last - 1, THSM_EV_IMAGE, THSM_V_SECUREBOOT10)) ||
            (record_is(dev, last, THSM_EV_SIGN_MCUBOOT, NULL) &&
             record_is(dev, last - 1, THSM_EV_IMAGE, THSM_V_MCUBOOT)));
}

static void check_response(void *ctx, const char *data, size_t len)
{
    require(len <= THSM_PROTO_ANSWER_MAX);
    require(len >= 4 && memcmp(data + len - 4, "\r\n\r\n", 4) == 0);
    require(strncmp(data, "OK", 2) == 0 || strncmp(data, "ERROR ", 6) == 0);
    require(memmem(data, len, "\r\n\r\n", 4) == data + len - 4);
    const char *eol = memmem(data, len, "\r\n", 2);
    check_len_hex(data, (size_t)(eol - data));
    check_pem(data, len);
    if (probing)
        require(!memmem(data, len, PIN_PROBE, strlen(PIN_PROBE)));
    if (is_signature(data))
        check_signature_recorded(ctx);
}

/* Sends line on s, as a host would. */
static void send_line(thsm_device *dev, thsm_session *s, const char *line)
{
    thsm_device_input(dev, s, (const uint8_t *)line, strlen(line));
    thsm_device_input(dev, s, (const uint8_t *)"\r\n", 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static thsm_mem_port mp;
    static thsm_port port;
    static thsm_device dev;
    static thsm_session sess[2];
    thsm_mem_port_init(&mp, &port);
    thsm_session_init(&sess[0], check_response, &dev);
    thsm_session_init(&sess[1], check_response, &dev);
    thsm_device_init(&dev, &port);
    dev.pin_kdf.log2_cost = 4; /* a cheap PIN KDF keeps the fuzzer fast */
    int cur = 0;
    for (size_t i = 0, from = 0; i <= size; i++) {
        if (i < size && data[i] != 0x01)
            continue;
        thsm_device_input(&dev, &sess[cur], data + from, i - from);
        cur ^= 1;
        from = i + 1;
    }
    send_line(&dev, &sess[0], "");
    send_line(&dev, &sess[1], "");
    /* probe PINs with spaces and stray words: never echoed */
    probing = 1;
    send_line(&dev, &sess[0], "AT+AUTH PIN=" PIN_PROBE " " PIN_PROBE);
    send_line(&dev, &sess[1], "AT+PIN_SET NEW=" PIN_PROBE " x" PIN_PROBE "=1");
    send_line(&dev, &sess[1], "AT+PIN_SET OLD=" PIN_PROBE " NEW=" PIN_PROBE);
    probing = 0;
    thsm_device_disconnect(&dev, &sess[0]);
    thsm_device_disconnect(&dev, &sess[1]);
    /* what was saved must load again */
    thsm_device_deinit(&dev);
    require(thsm_device_init(&dev, &port) == 0);
    thsm_device_deinit(&dev);
    return 0;
}
