#include "port/mem/port_mem.h"

#include <string.h>

#include "port/root_key.h"

static thsm_mem_object *find(thsm_mem_port *mp, const char *name)
{
    for (int i = 0; i < THSM_MEM_OBJECTS; i++)
        if (mp->obj[i].used && strcmp(mp->obj[i].name, name) == 0)
            return &mp->obj[i];
    return NULL;
}

static thsm_mem_object *find_or_add(thsm_mem_port *mp, const char *name)
{
    thsm_mem_object *o = find(mp, name);
    if (o || strlen(name) >= sizeof(o->name))
        return o;
    for (int i = 0; i < THSM_MEM_OBJECTS; i++) {
        if (!mp->obj[i].used) {
            o = &mp->obj[i];
            o->used = 1;
            o->len = 0;
            strcpy(o->name, name);
            return o;
        }
    }
    return NULL;
}

static int mem_load(void *ctx, const char *name, uint8_t *buf, size_t cap,
                    size_t *len)
{
    thsm_mem_object *o = find(ctx, name);
    if (!o)
        return THSM_PORT_NOT_FOUND;
    if (o->len > cap)
        return THSM_PORT_TOO_BIG;
    memcpy(buf, o->data, o->len);
    *len = o->len;
    return THSM_PORT_OK;
}

static int mem_write(thsm_mem_port *mp, const char *name, const uint8_t *buf,
                     size_t len, int append)
{
    if (mp->fail_writes)
        return THSM_PORT_IO;
    thsm_mem_object *o = find_or_add(mp, name);
    if (!o)
        return THSM_PORT_IO;
    size_t at = append ? o->len : 0;
    size_t max = append && mp->append_max ? mp->append_max : THSM_MEM_OBJECT_MAX;
    if (len > max - at || at > max)
        return append ? THSM_PORT_FULL : THSM_PORT_TOO_BIG;
    memcpy(o->data + at, buf, len);
    o->len = at + len;
    return THSM_PORT_OK;
}

static int mem_save(void *ctx, const char *name, const uint8_t *buf, size_t len)
{
    thsm_mem_port *mp = ctx;
    int rc = mem_write(ctx, name, buf, len, 0);
    if (mp->saves_ok > 0 && --mp->saves_ok == 0)
        mp->fail_writes = 1;
    return rc;
}

static int mem_append(void *ctx, const char *name, const uint8_t *buf,
                      size_t len)
{
    thsm_mem_port *mp = ctx;
    size_t part = mp->short_append;
    if (!part || part >= len)
        return mem_write(ctx, name, buf, len, 1);
    mp->short_append = 0;
    mem_write(ctx, name, buf, part, 1);
    return THSM_PORT_IO;
}

static int mem_truncate(void *ctx, const char *name, uint64_t size)
{
    thsm_mem_port *mp = ctx;
    thsm_mem_object *o = find(ctx, name);
    if (mp->fail_writes || (o ? size > o->len : size > 0))
        return THSM_PORT_IO;
    if (o)
        o->len = (size_t)size;
    return THSM_PORT_OK;
}

static int mem_room(void *ctx, const char *name, uint64_t *bytes)
{
    thsm_mem_port *mp = ctx;
    thsm_mem_object *o = find(ctx, name);
    size_t max = mp->append_max ? mp->append_max : THSM_MEM_OBJECT_MAX;
    size_t len = o ? o->len : 0;
    *bytes = mp->append_max ? (len < max ? max - len : 0) : UINT64_MAX;
    return THSM_PORT_OK;
}

static int mem_sync(void *ctx, const char *name)
{
    thsm_mem_port *mp = ctx;
    (void)name;
    mp->syncs++;
    return mp->fail_writes ? THSM_PORT_IO : THSM_PORT_OK;
}

static int mem_read(void *ctx, const char *name, uint64_t offset, uint8_t *buf,
                    size_t cap, size_t *len)
{
    thsm_mem_object *o = find(ctx, name);
    if (!o)
        return THSM_PORT_NOT_FOUND;
    size_t n = offset >= o->len ? 0 : o->len - (size_t)offset;
    *len = n < cap ? n : cap;
    memcpy(buf, o->data + (n ? offset : 0), *len);
    return THSM_PORT_OK;
}

static int mem_size(void *ctx, const char *name, uint64_t *size)
{
    thsm_mem_object *o = find(ctx, name);
    if (!o)
        return THSM_PORT_NOT_FOUND;
    *size = o->len;
    return THSM_PORT_OK;
}

static int mem_derive(void *ctx, const char *label, const uint8_t *context,
                      size_t context_len, uint8_t out[THSM_DERIVE_LEN])
{
    thsm_mem_port *mp = ctx;
    return thsm_root_key_derive(mp->device_key, label, context, context_len,
                                out);
}

static int64_t mem_now(void *ctx)
{
    return ((thsm_mem_port *)ctx)->now;
}

void thsm_mem_port_init(thsm_mem_port *mp, thsm_port *port)
{
    for (int i = 0; i < THSM_MEM_OBJECTS; i++) { /* the data need no clearing */
        mp->obj[i].used = 0;
        mp->obj[i].len = 0;
        mp->obj[i].name[0] = '\0';
    }
    mp->fail_writes = 0;
    mp->append_max = 0;
    mp->short_append = 0;
    mp->syncs = 0;
    memset(mp->device_key, 0x5a, sizeof(mp->device_key));
    mp->now = 1798761600; /* 2027-01-01T00:00:00Z */
    port->ctx = mp;
    port->load = mem_load;
    port->save = mem_save;
    port->append = mem_append;
    port->sync = mem_sync;
    port->read = mem_read;
    port->size = mem_size;
    port->derive = mem_derive;
    port->now = mem_now;
    port->truncate = mem_truncate;
    port->room = mem_room;
}
