/*
 * policy.c - the owner's signing policy (policy.h). No policy yet: every
 * check allows and nothing is noted.
 */
#include "device/policy.h"

int thsm_policy_check_image(thsm_device *dev, const thsm_image_info *img)
{
    (void)dev;
    (void)img;
    return 0;
}

int thsm_policy_check_digest(thsm_device *dev)
{
    (void)dev;
    return 0;
}

int thsm_policy_check_import(thsm_device *dev)
{
    (void)dev;
    return 0;
}

bool thsm_policy_note_signed(thsm_device *dev, const thsm_image_info *img)
{
    (void)dev;
    (void)img;
    return false;
}
