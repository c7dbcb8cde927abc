/*
 * test_agg.c - unit tests for combining partial aggregates (sw_agg_*,
 * src/exec/agg.c) into what one PostgreSQL 15 server prints.
 *
 * The table below was produced on a real PostgreSQL 15 server: each data
 * set was split over three "shards", the partials each shard returns were
 * recorded (count(x), sum(x), avg(x), sum(x::numeric),
 * sum(x::numeric * x::numeric), min(x), max(x)), and so was the answer
 * over all rows (count, sum, avg, var_samp, var_pop, stddev_samp,
 * stddev_pop, min, max).  Every set is combined in text and in binary
 * format and must give the server's answer byte for byte; "ERROR" marks
 * what the server refused (float8 avg overflowing its sum of squares),
 * which is not checked.  Results of float columns are compared to 1e-14
 * relative: float addition depends on the order (shard sums added up are
 * not one running sum), and their variances are computed from the exact
 * numeric sums rather than in double.
 * Then: overflow errors, NULL and empty partials, booleans, MIN/MAX
 * keeping the original bytes, binary numeric output pinned against
 * numeric_send, kinds and types that must be refused, buffer sizing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/exec/numeric.h"
#include "sw/datum.h"

/* One data set: the value type, the types of sum(x), avg(x), var_samp(x),
 * each shard's partials and the server's answer (NULL = SQL NULL). */
typedef struct pg_case {
    const char *name;
    sw_dtype col, sum, avg, var;
    const char *part[3][7]; /* count, sum, avg, sum(x::numeric), sum(x::numeric^2), min, max */
    const char *all[9];     /* count, sum, avg, var_samp, var_pop, stddev_samp, stddev_pop, min, max */
} pg_case;

static const pg_case CASES[] = {
    {"int4", SW_DT_INT4, SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"4", "48", "12.0000000000000000", "48", "1778", "1", "42"},
      {"3", "109", "36.3333333333333333", "109", "10041", "4", "100"},
      {"3", "4294967287", "1431655762.33333333", "4294967287", "9223372028264841267", "-7", "2147483647"},
     },
     {"10", "4294967444", "429496744.40000000", "819855277084762641", "737869749376286377", "905458600", "858993451", "-7", "2147483647"}},
    {"int2", SW_DT_INT2, SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"1", "1", "1.00000000000000000000", "1", "1", "1", "1"},
      {"2", "-1", "-0.50000000000000000000", "-1", "2147418113", "-32768", "32767"},
      {"2", "16", "8.0000000000000000", "16", "130", "7", "9"},
     },
     {"5", "16", "3.2000000000000000", "536854548.20000000", "429483638.56000000", "23170.12188574", "20723.98703339", "-32768", "32767"}},
    {"int8", SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"2", "9000000000000000001", "4500000000000000001", "9000000000000000001", "81000000000000000000000000000000000001", "1", "9000000000000000000"},
      {"2", "5", "2.5000000000000000", "5", "13", "2", "3"},
      {"3", "9000000123456789007", "3000000041152263002", "9000000123456789007", "81000000000000015241578753153483936169", "-5", "9000000000000000000"},
     },
     {"7", "18000000123456789013", "2571428589065255573", "19285714179894183023368393301761667598", "16530612154195014020030051401510000798", "4391550316220250598", "4065785551919212330", "-5", "9000000000000000000"}},
    {"num_mixed", SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"2", "1.625", "0.81250000000000000000", "1.625", "2.265625", "0.125", "1.5"},
      {"2", "12.25", "6.1250000000000000", "12.25", "105.0625", "2.25", "10"},
      {"2", "4.1", "2.0500000000000000", "4.1", "59.41", "-3", "7.1"},
     },
     {"6", "17.975", "2.9958333333333333", "22.5776041666666667", "18.8146701388888889", "4.7515896462833011", "4.3375880554622622", "-3", "10"}},
    {"num_huge", SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"1", "123456789012345678901234567890", "123456789012345678901234567890", "123456789012345678901234567890", "15241578753238836750495351562536198787501905199875019052100", "123456789012345678901234567890", "123456789012345678901234567890"},
      {"1", "987654321098765432109876543210.5", "987654321098765432109876543210.5", "987654321098765432109876543210.5", "975461057985063252587258039936637707666776253619888873647310.25", "987654321098765432109876543210.5", "987654321098765432109876543210.5"},
      {"2", "-555555555555555555555555555554.55", "-277777777777777777777777777777.28", "-555555555555555555555555555554.55", "308641975308641975308641975308635802469135802469135802469136.8025", "-555555555555555555555555555555.55", "1"},
     },
     {"4", "555555554555555555455555555545.95", "138888888638888888863888888886.49", "407394706165853782791596809496290993507016485038526637072635.5673", "305546029624390337093697607122218245130262363778894977804476.6755", "638274788916070053163695122478.3109", "552762181796466912648043539160.9326", "-555555555555555555555555555555.55", "987654321098765432109876543210.5"}},
    {"num_thirds", SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"2", "1.3333", "0.66665000000000000000", "1.3333", "1.11108889", "0.3333", "1"},
      {"1", "1", "1.00000000000000000000", "1", "1", "1", "1"},
      {"1", "2", "2.0000000000000000", "2", "4", "2", "2"},
     },
     {"4", "4.3333", "1.08332500000000000000", "0.47223888916666666667", "0.35417916687500000000", "0.68719639781263890635", "0.59512953789490233972", "0.3333", "2"}},
    {"f8", SW_DT_FLOAT8, SW_DT_FLOAT8, SW_DT_FLOAT8, SW_DT_FLOAT8,
     {
      {"2", "1e+150", "5e+149", "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000.0000001", "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000.00000000000001", "1e-07", "1e+150"},
      {"2", "0.30000000000000004", "0.15000000000000002", "0.3", "0.05", "0.1", "0.2"},
      {"2", "-2.2", "-1.1", "-2.2", "6.34", "-2.5", "0.3"},
     },
     {"6", "1e+150", "1.6666666666666666e+149", "1.6666666666666664e+299", "1.3888888888888888e+299", "4.0824829046386297e+149", "3.7267799624996495e+149", "-2.5", "1e+150"}},
    {"f8_small", SW_DT_FLOAT8, SW_DT_FLOAT8, SW_DT_FLOAT8, SW_DT_FLOAT8,
     {
      {"2", "1.6", "0.8", "1.6", "2.26", "0.1", "1.5"},
      {"2", "2.45", "1.225", "2.45", "5.1025", "0.2", "2.25"},
      {"1", "0.3", "0.3", "0.3", "0.09", "0.3", "0.3"},
     },
     {"5", "4.35", "0.8699999999999999", "0.917", "0.7336", "0.957601169589929", "0.8565045242145543", "0.1", "2.25"}},
    {"f4", SW_DT_FLOAT4, SW_DT_FLOAT4, SW_DT_FLOAT8, SW_DT_FLOAT8,
     {
      {"2", "5.5", "2.7500000596046448", "5.5", "20.57", "1.1", "4.4"},
      {"1", "2.2", "2.200000047683716", "2.2", "4.84", "2.2", "2.2"},
      {"1", "3.3", "3.299999952316284", "3.3", "10.89", "3.3", "3.3"},
     },
     {"4", "11", "2.7500000298023224", "2.016666710376743", "1.5125000327825573", "1.4200939089992404", "1.2298374009528892", "1.1", "4.4"}},
    {"nulls_empty", SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"1", "5.5", "5.5000000000000000", "5.5", "30.25", "5.5", "5.5"},
      {"1", "4.5", "4.5000000000000000", "4.5", "20.25", "4.5", "4.5"},
      {"0", NULL, NULL, NULL, NULL, NULL, NULL},
     },
     {"2", "10.0", "5.0000000000000000", "0.50000000000000000000", "0.25000000000000000000", "0.70710678118654752440", "0.50000000000000000000", "4.5", "5.5"}},
    {"single", SW_DT_INT4, SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"0", NULL, NULL, NULL, NULL, NULL, NULL},
      {"1", "17", "17.0000000000000000", "17", "289", "17", "17"},
      {"0", NULL, NULL, NULL, NULL, NULL, NULL},
     },
     {"1", "17", "17.0000000000000000", NULL, "0", NULL, "0", "17", "17"}},
    {"equal", SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"1", "2.50", "2.5000000000000000", "2.50", "6.2500", "2.50", "2.50"},
      {"1", "2.50", "2.5000000000000000", "2.50", "6.2500", "2.50", "2.50"},
      {"2", "5.00", "2.5000000000000000", "5.00", "12.5000", "2.50", "2.50"},
     },
     {"4", "10.00", "2.5000000000000000", "0", "0", "0", "0", "2.50", "2.50"}},
    {"equal_int", SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"1", "7", "7.0000000000000000", "7", "49", "7", "7"},
      {"1", "7", "7.0000000000000000", "7", "49", "7", "7"},
      {"1", "7", "7.0000000000000000", "7", "49", "7", "7"},
     },
     {"3", "21", "7.0000000000000000", "0", "0", "0", "0", "7", "7"}},
    {"avg_round", SW_DT_INT4, SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"2", "1", "0.50000000000000000000", "1", "1", "0", "1"},
      {"2", "1", "0.50000000000000000000", "1", "1", "0", "1"},
      {"2", "3", "1.5000000000000000", "3", "5", "1", "2"},
     },
     {"6", "5", "0.83333333333333333333", "0.56666666666666666667", "0.47222222222222222222", "0.75277265270908099499", "0.68718427093627675830", "0", "2"}},
    {"num_nan", SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"1", "1", "1.00000000000000000000", "1", "1", "1", "1"},
      {"1", "NaN", "NaN", "NaN", "NaN", "NaN", "NaN"},
      {"1", "2", "2.0000000000000000", "2", "4", "2", "2"},
     },
     {"3", "NaN", "NaN", "NaN", "NaN", "NaN", "NaN", "1", "NaN"}},
    {"num_inf", SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"1", "1", "1.00000000000000000000", "1", "1", "1", "1"},
      {"1", "Infinity", "Infinity", "Infinity", "Infinity", "Infinity", "Infinity"},
      {"1", "2", "2.0000000000000000", "2", "4", "2", "2"},
     },
     {"3", "Infinity", "Infinity", "NaN", "NaN", "NaN", "NaN", "1", "Infinity"}},
    {"f8_huge", SW_DT_FLOAT8, SW_DT_FLOAT8, SW_DT_FLOAT8, SW_DT_FLOAT8,
     {
      {"1", "1e+300", "1e+300", "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "1e+300", "1e+300"},
      {"1", "1e+300", "1e+300", "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "1e+300", "1e+300"},
      {"2", "-1e+300", "ERROR", "-999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999.9999999", "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000.00000000000001", "-1e+300", "1e-07"},
     },
     {"4", "1e+300", "ERROR", "ERROR", "ERROR", "ERROR", "ERROR", "-1e+300", "1e+300"}},
    {"rand_num", SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"44", "-12146866.5949", "-276065.149884090909", "-12146866.5949", "15681676784572.31627423", "-964271.0", "939593.0090"},
      {"52", "3100725.9074", "59629.344373076923", "3100725.9074", "17812332649103.66088298", "-981590.1229", "966753"},
      {"54", "2041962.1181", "37814.113298148148", "2041962.1181", "18427573505337.93991493", "-975236.51", "953476.5513"},
     },
     {"150", "-7004178.5694", "-46694.523796000000", "346271987625.05795661", "343963507707.55757023", "588448.79779388", "586484.02169842", "-981590.1229", "966753"}},
    {"rand_tiny", SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"45", "-0.001868760", "-0.000041528000000000000000", "-0.001868760", "0.000016500828880180", "-0.0010", "0.0010"},
      {"49", "-0.001610814", "-0.000032873755102040816327", "-0.001610814", "0.000017371734404844", "-0.000994", "0.00097337"},
      {"56", "0.002601886", "0.000046462250000000000000", "0.002601886", "0.000021024437172844", "-0.0010", "0.00100"},
     },
     {"150", "-0.000877688", "-0.000005851253333333333333", "0.000000368401777738472304", "0.000000365945765886882489", "0.000606961100679831296880", "0.000604934513717710182528", "-0.0010", "0.0010"}},
    {"rand_int", SW_DT_INT4, SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"39", "-3981430635", "-102087965.000000000000", "-3981430635", "58083883053587784183", "-2061045904", "2024770681"},
      {"36", "214826689", "5967408.027777777778", "214826689", "48579972185508819481", "-1728920548", "2103700827"},
      {"45", "15243696268", "338748805.95555556", "15243696268", "53865723040155058974", "-1992809668", "2064314851"},
     },
     {"120", "11477092322", "95642436.016666666667", "1339763707657036986", "1328599010093228345", "1157481623", "1152648693", "-2061045904", "2103700827"}},
    {"rand_big", SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC, SW_DT_NUMERIC,
     {
      {"46", "10851458658688502199222272.00", "235901275188880482591788.52", "10851458658688502199222272.00", "1676476529496396763776553919780310244268958657019904.0000", "-9966149974356093302734848.00", "9475210145722676023394304.00"},
      {"63", "209873132222164515160064.00", "3331319559081976431112.13", "209873132222164515160064.00", "1952339859593689937074970336416758654259969115815936.0000", "-9855773313511867340029952.0", "9991712187819664955408384.00"},
      {"41", "-13725198267590226309283840.00", "-334760933355859178275215.61", "-13725198267590226309283840.00", "1571391989488270756921037021787709965121285127143424.0000", "-9603656470538527686262784", "9949439656799019722604544.00"},
     },
     {"150", "-2663866476679559594901504.00", "-17759109844530397299343.36", "34900409870342194250347253932099268324085488301361.4132", "34667740471206579622011605572551939868591585046019.0037", "5907656884953813416615267.8256", "5887931765162244101429840.7400", "-9966149974356093302734848.00", "9991712187819664955408384.00"}},
    {"f8_equal", SW_DT_FLOAT8, SW_DT_FLOAT8, SW_DT_FLOAT8, SW_DT_FLOAT8,
     {
      {"1", "0.1", "0.1", "0.1", "0.01", "0.1", "0.1"},
      {"1", "0.1", "0.1", "0.1", "0.01", "0.1", "0.1"},
      {"1", "0.1", "0.1", "0.1", "0.01", "0.1", "0.1"},
     },
     {"3", "0.30000000000000004", "0.10000000000000002", "0", "0", "0", "0", "0.1", "0.1"}},
};

/* ------------------------------------------------------------ helpers */

/* A value given as text, in format fmt for type t (binary: the send
 * format). */
static uint8_t *encode(sw_dtype t, int fmt, const char *s, int32_t *len)
{
    if (fmt == 0) {
        *len = (int32_t)strlen(s);
        return (uint8_t *)strdup(s);
    }
    uint8_t *b = malloc(8);
    uint64_t u = 0;
    int n = 0;
    switch (t) {
    case SW_DT_INT2: u = (uint64_t)strtoll(s, NULL, 10); n = 2; break;
    case SW_DT_INT4: u = (uint64_t)strtoll(s, NULL, 10); n = 4; break;
    case SW_DT_INT8: u = (uint64_t)strtoll(s, NULL, 10); n = 8; break;
    case SW_DT_FLOAT8: {
        double d;
        assert_int_equal(sw_float8_in(s, strlen(s), &d), 0);
        memcpy(&u, &d, 8);
        n = 8;
        break;
    }
    case SW_DT_FLOAT4: {
        float f;
        uint32_t w;
        assert_int_equal(sw_float4_in(s, strlen(s), &f), 0);
        memcpy(&w, &f, 4);
        u = w;
        n = 4;
        break;
    }
    case SW_DT_NUMERIC: {
        free(b);
        sw_num x;
        sw_num_init(&x);
        assert_int_equal(sw_num_parse(&x, s, strlen(s)), 0);
        size_t l;
        b = sw_num_to_bin(&x, &l);
        sw_num_clear(&x);
        *len = (int32_t)l;
        return b;
    }
    default: fail_msg("no binary encoding for type %d", t);
    }
    for (int i = 0; i < n; i++) b[i] = (uint8_t)(u >> (8 * (n - 1 - i)));
    *len = n;
    return b;
}

/* A final value back to text (binary results decoded with the send format). */
static char *decode(sw_dtype t, int fmt, const uint8_t *p, int len)
{
    if (fmt == 0) {
        char *s = malloc((size_t)len + 1);
        memcpy(s, p, (size_t)len);
        s[len] = '\0';
        return s;
    }
    char *s = malloc(64);
    uint64_t u = 0;
    for (int i = 0; i < len && i < 8; i++) u = u << 8 | p[i];
    switch (t) {
    case SW_DT_INT2: assert_int_equal(len, 2); snprintf(s, 64, "%d", (int16_t)u); break;
    case SW_DT_INT4: assert_int_equal(len, 4); snprintf(s, 64, "%d", (int32_t)u); break;
    case SW_DT_INT8: assert_int_equal(len, 8); snprintf(s, 64, "%lld", (long long)(int64_t)u); break;
    case SW_DT_FLOAT8: {
        assert_int_equal(len, 8);
        double d;
        memcpy(&d, &u, 8);
        sw_float8_out(d, s);
        break;
    }
    case SW_DT_FLOAT4: {
        assert_int_equal(len, 4);
        uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, 4);
        sw_float4_out(f, s);
        break;
    }
    case SW_DT_NUMERIC: {
        free(s);
        sw_num x;
        sw_num_init(&x);
        assert_int_equal(sw_num_from_bin(&x, p, (size_t)len), 0);
        size_t l;
        s = sw_num_to_text(&x, &l);
        sw_num_clear(&x);
        break;
    }
    default: fail_msg("no binary decoding for type %d", t);
    }
    return s;
}

/* The final value as text, or NULL for SQL NULL; fails on an error. */
static char *final_text(sw_agg *a, sw_dtype t, int fmt)
{
    char err[128] = "";
    int len = sw_agg_final(a, NULL, 0, err, sizeof err);
    if (len == -2) fail_msg("final failed: %s", err);
    if (len == -1) return NULL;
    size_t n = len > 0 ? (size_t)len : 0;
    uint8_t *buf = malloc(n + 1);
    assert_int_equal(sw_agg_final(a, buf, n, err, sizeof err), len);
    char *s = decode(t, fmt, buf, len);
    free(buf);
    return s;
}

static void check_value(const char *what, const char *want, const char *got, double approx)
{
    if (want && strcmp(want, "ERROR") == 0) return;
    if (!want || !got) {
        if (want != got) fail_msg("%s: want %s, got %s", what, want ? want : "NULL", got ? got : "NULL");
        return;
    }
    if (approx > 0 && strcmp(want, got) != 0) {
        double w = strtod(want, NULL), g = strtod(got, NULL);
        if (!(fabs(w - g) <= approx * fabs(w))) fail_msg("%s: want %s, got %s", what, want, got);
        return;
    }
    if (strcmp(want, got) != 0) fail_msg("%s: want %s, got %s", what, want, got);
}

/* Feed one aggregate the shards' partials (indexes into part[]) and check
 * the final value against want. */
static void run_agg(const pg_case *c, int fmt, sw_agg_kind kind, sw_dtype out, const sw_dtype in[3],
                    const int idx[3], const char *want, double approx)
{
    /* A shard that failed to compute its partial fails the query. */
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 3; k++)
            if (idx[k] >= 0 && c->part[s][idx[k]] && strcmp(c->part[s][idx[k]], "ERROR") == 0) return;
    sw_agg_col ocol = {out, fmt}, icol[3];
    for (int k = 0; k < 3; k++) icol[k] = (sw_agg_col){in[k], fmt};
    sw_agg *a = sw_agg_new(kind, ocol, icol);
    if (!a) fail_msg("%s: kind %d refused", c->name, kind);
    for (int s = 0; s < 3; s++) {
        uint8_t *v[3] = {NULL, NULL, NULL};
        int32_t len[3] = {-1, -1, -1};
        for (int k = 0; k < 3; k++) {
            if (idx[k] < 0) continue;
            const char *txt = c->part[s][idx[k]];
            if (txt) v[k] = encode(in[k], fmt, txt, &len[k]);
        }
        char err[128];
        const uint8_t *cv[3] = {v[0], v[1], v[2]};
        if (sw_agg_add(a, cv, len, err, sizeof err) != 0) fail_msg("%s: add: %s", c->name, err);
        for (int k = 0; k < 3; k++) free(v[k]);
    }
    char *got = final_text(a, out, fmt);
    char what[96];
    snprintf(what, sizeof what, "%s kind %d fmt %d", c->name, kind, fmt);
    check_value(what, want, got, approx);
    free(got);
    sw_agg_free(a);
}

static void run_case(const pg_case *c, int fmt)
{
    const sw_dtype I8 = SW_DT_INT8, NUM = SW_DT_NUMERIC;
    run_agg(c, fmt, SW_AGG_COUNT, I8, (sw_dtype[]){I8, 0, 0}, (int[]){0, -1, -1}, c->all[0], 0);
    /* Float addition is not associative: shard sums added together may
     * differ in the last digit from one server's running sum. */
    double fl = c->var == SW_DT_FLOAT8 ? 1e-14 : 0;
    run_agg(c, fmt, SW_AGG_SUM, c->sum, (sw_dtype[]){c->sum, 0, 0}, (int[]){1, -1, -1}, c->all[1], fl);
    run_agg(c, fmt, SW_AGG_AVG, c->avg, (sw_dtype[]){I8, c->sum, c->avg}, (int[]){0, 1, 2}, c->all[2], fl);
    /* x::numeric keeps 6 significant digits of a float4 (1.1, where the
     * server's float variance sees 1.100000023841858): only about 1e-7
     * agreement is possible there. */
    double vfl = c->col == SW_DT_FLOAT4 ? 1e-6 : fl;
    const sw_agg_kind vk[4] = {SW_AGG_VAR_SAMP, SW_AGG_VAR_POP, SW_AGG_STDDEV_SAMP, SW_AGG_STDDEV_POP};
    for (int k = 0; k < 4; k++)
        run_agg(c, fmt, vk[k], c->var, (sw_dtype[]){I8, NUM, NUM}, (int[]){0, 3, 4}, c->all[3 + k], vfl);
    run_agg(c, fmt, SW_AGG_MIN, c->col, (sw_dtype[]){c->col, 0, 0}, (int[]){5, -1, -1}, c->all[7], 0);
    run_agg(c, fmt, SW_AGG_MAX, c->col, (sw_dtype[]){c->col, 0, 0}, (int[]){6, -1, -1}, c->all[8], 0);
}

static void test_pg_cases_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i], 0);
}

static void test_pg_cases_binary(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i], 1);
}

/* ------------------------------------------------------ direct checks */

static sw_agg *mk(sw_agg_kind kind, sw_dtype out, int fmt, sw_dtype i0, sw_dtype i1, sw_dtype i2)
{
    sw_agg_col in[3] = {{i0, fmt}, {i1, fmt}, {i2, fmt}};
    sw_agg *a = sw_agg_new(kind, (sw_agg_col){out, fmt}, in);
    assert_non_null(a);
    return a;
}

/* Add one text partial per input (NULL pointer = SQL NULL). */
static int add3(sw_agg *a, const char *x, const char *y, const char *z, char *err, size_t errsz)
{
    const char *s[3] = {x, y, z};
    const uint8_t *v[3];
    int32_t len[3];
    for (int k = 0; k < 3; k++) {
        v[k] = (const uint8_t *)s[k];
        len[k] = s[k] ? (int32_t)strlen(s[k]) : -1;
    }
    return sw_agg_add(a, v, len, err, errsz);
}

static int add1(sw_agg *a, const char *x, char *err, size_t errsz) { return add3(a, x, NULL, NULL, err, errsz); }

static void expect_text(sw_agg *a, const char *want)
{
    char buf[256], err[128];
    int len = sw_agg_final(a, (uint8_t *)buf, sizeof buf - 1, err, sizeof err);
    if (!want) {
        assert_int_equal(len, -1);
        return;
    }
    if (len < 0) fail_msg("want %s, got %d (%s)", want, len, len == -2 ? err : "NULL");
    buf[len] = '\0';
    assert_string_equal(buf, want);
}

static void test_int8_sum_overflow(void **state)
{
    (void)state;
    char err[128];
    /* sum(int4) over 2^63 rows' worth: int8pl's error. */
    sw_agg *a = mk(SW_AGG_SUM, SW_DT_INT8, 0, SW_DT_INT8, 0, 0);
    assert_int_equal(add1(a, "9223372036854775807", err, sizeof err), 0);
    assert_int_equal(add1(a, "-1", err, sizeof err), 0);
    assert_int_equal(add1(a, "1", err, sizeof err), 0);
    expect_text(a, "9223372036854775807");
    assert_int_equal(add1(a, "1", err, sizeof err), -1);
    assert_string_equal(err, "bigint out of range");
    sw_agg_free(a);

    a = mk(SW_AGG_COUNT, SW_DT_INT8, 0, SW_DT_INT8, 0, 0);
    assert_int_equal(add1(a, "9223372036854775807", err, sizeof err), 0);
    assert_int_equal(add1(a, "1", err, sizeof err), -1);
    assert_string_equal(err, "bigint out of range");
    sw_agg_free(a);
}

static void test_float_sum_overflow(void **state)
{
    (void)state;
    char err[128];
    /* PostgreSQL: select sum(x) from (values (1e308::float8),(1e308)) v(x)
     * -> ERROR: value out of range: overflow. */
    sw_agg *a = mk(SW_AGG_SUM, SW_DT_FLOAT8, 0, SW_DT_FLOAT8, 0, 0);
    assert_int_equal(add1(a, "1e+308", err, sizeof err), 0);
    assert_int_equal(add1(a, "1e+308", err, sizeof err), -1);
    assert_string_equal(err, "value out of range: overflow");
    sw_agg_free(a);
    /* An infinite input is not an overflow. */
    a = mk(SW_AGG_SUM, SW_DT_FLOAT8, 0, SW_DT_FLOAT8, 0, 0);
    assert_int_equal(add1(a, "1e+308", err, sizeof err), 0);
    assert_int_equal(add1(a, "Infinity", err, sizeof err), 0);
    expect_text(a, "Infinity");
    assert_int_equal(add1(a, "-Infinity", err, sizeof err), 0);
    expect_text(a, "NaN");
    sw_agg_free(a);
    /* float4 adds in single precision: 4 x 1e38 overflows. */
    a = mk(SW_AGG_SUM, SW_DT_FLOAT4, 0, SW_DT_FLOAT4, 0, 0);
    assert_int_equal(add1(a, "1e+38", err, sizeof err), 0);
    assert_int_equal(add1(a, "1e+38", err, sizeof err), 0);
    assert_int_equal(add1(a, "1e+38", err, sizeof err), 0);
    expect_text(a, "3e+38");
    assert_int_equal(add1(a, "1e+38", err, sizeof err), -1);
    assert_string_equal(err, "value out of range: overflow");
    sw_agg_free(a);
    /* Single precision rounding: 16777216 + 1 stays 16777216 in float4. */
    a = mk(SW_AGG_SUM, SW_DT_FLOAT4, 0, SW_DT_FLOAT4, 0, 0);
    assert_int_equal(add1(a, "1.6777216e+07", err, sizeof err), 0);
    assert_int_equal(add1(a, "1", err, sizeof err), 0);
    expect_text(a, "1.6777216e+07");
    sw_agg_free(a);
}

static void test_nulls_and_empty(void **state)
{
    (void)state;
    char err[128];
    /* All partials NULL: sum is NULL, count is 0. */
    sw_agg *s = mk(SW_AGG_SUM, SW_DT_NUMERIC, 0, SW_DT_NUMERIC, 0, 0);
    sw_agg *c = mk(SW_AGG_COUNT, SW_DT_INT8, 0, SW_DT_INT8, 0, 0);
    sw_agg *m = mk(SW_AGG_MAX, SW_DT_TEXT, 0, SW_DT_TEXT, 0, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(add1(s, NULL, err, sizeof err), 0);
        assert_int_equal(add1(c, "0", err, sizeof err), 0);
        assert_int_equal(add1(m, NULL, err, sizeof err), 0);
    }
    expect_text(s, NULL);
    expect_text(c, "0");
    expect_text(m, NULL);
    sw_agg_free(s);
    sw_agg_free(c);
    sw_agg_free(m);
    /* avg over no rows: NULL, numeric or float. */
    sw_agg *a = mk(SW_AGG_AVG, SW_DT_NUMERIC, 0, SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC);
    sw_agg *f = mk(SW_AGG_AVG, SW_DT_FLOAT8, 0, SW_DT_INT8, SW_DT_FLOAT8, SW_DT_FLOAT8);
    sw_agg *v = mk(SW_AGG_VAR_POP, SW_DT_NUMERIC, 0, SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(add3(a, "0", NULL, NULL, err, sizeof err), 0);
        assert_int_equal(add3(f, "0", NULL, NULL, err, sizeof err), 0);
        assert_int_equal(add3(v, "0", NULL, NULL, err, sizeof err), 0);
    }
    expect_text(a, NULL);
    expect_text(f, NULL);
    expect_text(v, NULL);
    /* One row: var_pop 0, and avg keeps numeric_div's 16 digits. */
    assert_int_equal(add3(a, "1", "3", "3.0000000000000000", err, sizeof err), 0);
    assert_int_equal(add3(v, "1", "3", "9", err, sizeof err), 0);
    expect_text(a, "3.0000000000000000");
    expect_text(v, "0");
    sw_agg_free(a);
    sw_agg_free(f);
    sw_agg_free(v);
}

static void test_bool(void **state)
{
    (void)state;
    char err[128];
    sw_agg *a = mk(SW_AGG_BOOL_AND, SW_DT_BOOL, 0, SW_DT_BOOL, 0, 0);
    sw_agg *o = mk(SW_AGG_BOOL_OR, SW_DT_BOOL, 0, SW_DT_BOOL, 0, 0);
    expect_text(a, NULL);
    assert_int_equal(add1(a, "t", err, sizeof err), 0);
    assert_int_equal(add1(o, "f", err, sizeof err), 0);
    assert_int_equal(add1(a, NULL, err, sizeof err), 0);
    assert_int_equal(add1(o, NULL, err, sizeof err), 0);
    expect_text(a, "t");
    expect_text(o, "f");
    assert_int_equal(add1(a, "f", err, sizeof err), 0);
    assert_int_equal(add1(o, "t", err, sizeof err), 0);
    assert_int_equal(add1(a, "t", err, sizeof err), 0);
    assert_int_equal(add1(o, "f", err, sizeof err), 0);
    expect_text(a, "f");
    expect_text(o, "t");
    assert_int_equal(add1(a, "x", err, sizeof err), -1);
    sw_agg_free(a);
    sw_agg_free(o);
    /* binary */
    a = mk(SW_AGG_BOOL_OR, SW_DT_BOOL, 1, SW_DT_BOOL, 0, 0);
    const uint8_t f0 = 0, t1 = 1;
    const uint8_t *v[3] = {&f0, NULL, NULL};
    int32_t l[3] = {1, -1, -1};
    assert_int_equal(sw_agg_add(a, v, l, err, sizeof err), 0);
    v[0] = &t1;
    assert_int_equal(sw_agg_add(a, v, l, err, sizeof err), 0);
    uint8_t out[4];
    assert_int_equal(sw_agg_final(a, out, sizeof out, err, sizeof err), 1);
    assert_int_equal(out[0], 1);
    sw_agg_free(a);
}

static void test_minmax_keeps_bytes(void **state)
{
    (void)state;
    char err[128];
    /* The best value is returned as the shard printed it. */
    sw_agg *a = mk(SW_AGG_MAX, SW_DT_NUMERIC, 0, SW_DT_NUMERIC, 0, 0);
    assert_int_equal(add1(a, "1.50", err, sizeof err), 0);
    assert_int_equal(add1(a, "10", err, sizeof err), 0);
    assert_int_equal(add1(a, "9.9999", err, sizeof err), 0);
    expect_text(a, "10");
    assert_int_equal(add1(a, "NaN", err, sizeof err), 0);
    expect_text(a, "NaN");
    sw_agg_free(a);
    a = mk(SW_AGG_MIN, SW_DT_TIMESTAMPTZ, 0, SW_DT_TIMESTAMPTZ, 0, 0);
    assert_int_equal(add1(a, "2024-03-01 10:00:00+01", err, sizeof err), 0);
    assert_int_equal(add1(a, "2024-03-01 14:00:00+05:30", err, sizeof err), 0);
    expect_text(a, "2024-03-01 14:00:00+05:30");
    sw_agg_free(a);
    a = mk(SW_AGG_MAX, SW_DT_BPCHAR, 0, SW_DT_BPCHAR, 0, 0);
    assert_int_equal(add1(a, "ab  ", err, sizeof err), 0);
    assert_int_equal(add1(a, "aa  ", err, sizeof err), 0);
    expect_text(a, "ab  ");
    sw_agg_free(a);
    a = mk(SW_AGG_MIN, SW_DT_FLOAT8, 0, SW_DT_FLOAT8, 0, 0);
    assert_int_equal(add1(a, "NaN", err, sizeof err), 0);
    assert_int_equal(add1(a, "-Infinity", err, sizeof err), 0);
    assert_int_equal(add1(a, "-1e+308", err, sizeof err), 0);
    expect_text(a, "-Infinity");
    assert_int_equal(add1(a, "garbage", err, sizeof err), -1);
    sw_agg_free(a);
    a = mk(SW_AGG_MAX, SW_DT_DATE, 0, SW_DT_DATE, 0, 0);
    assert_int_equal(add1(a, "9999-12-31", err, sizeof err), 0);
    assert_int_equal(add1(a, "10000-01-01", err, sizeof err), 0);
    assert_int_equal(add1(a, "0044-03-15 BC", err, sizeof err), 0);
    expect_text(a, "10000-01-01");
    sw_agg_free(a);
}

/* Binary results as numeric_send writes them (from encode(numeric_send(..),
 * 'hex') on PostgreSQL 15). */
static void expect_hex(sw_agg *a, const char *hex)
{
    uint8_t buf[256];
    char err[128], got[520];
    int len = sw_agg_final(a, buf, sizeof buf, err, sizeof err);
    assert_true(len >= 0 && len <= (int)sizeof buf);
    for (int i = 0; i < len; i++) snprintf(got + 2 * i, 3, "%02x", buf[i]);
    got[2 * len] = '\0';
    assert_string_equal(got, hex);
}

static void test_binary_numeric_output(void **state)
{
    (void)state;
    char err[128];
    /* avg of 1.5, 2.25, -3, 0.125, 10, 7.1 = 2.9958333333333333 */
    sw_agg *a = mk(SW_AGG_AVG, SW_DT_NUMERIC, 1, SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC);
    const char *sums[] = {"1.625", "12.25", "4.1"};
    for (int i = 0; i < 3; i++) {
        int32_t l0, l1;
        uint8_t *c = encode(SW_DT_INT8, 1, "2", &l0), *s = encode(SW_DT_NUMERIC, 1, sums[i], &l1);
        const uint8_t *v[3] = {c, s, NULL};
        int32_t len[3] = {l0, l1, -1};
        assert_int_equal(sw_agg_add(a, v, len, err, sizeof err), 0);
        free(c);
        free(s);
    }
    expect_hex(a, "0005000000000010000226e60d050d050d05");
    sw_agg_free(a);
    /* sum giving -12.3400: trailing zero digits stripped, dscale kept */
    a = mk(SW_AGG_SUM, SW_DT_NUMERIC, 1, SW_DT_NUMERIC, 0, 0);
    const char *parts[] = {"-10.0000", "-2.34"};
    for (int i = 0; i < 2; i++) {
        int32_t l;
        uint8_t *s = encode(SW_DT_NUMERIC, 1, parts[i], &l);
        const uint8_t *v[3] = {s, NULL, NULL};
        int32_t len[3] = {l, -1, -1};
        assert_int_equal(sw_agg_add(a, v, len, err, sizeof err), 0);
        free(s);
    }
    expect_hex(a, "0002000040000004000c0d48");
    sw_agg_free(a);
    /* NaN and the infinities */
    a = mk(SW_AGG_SUM, SW_DT_NUMERIC, 1, SW_DT_NUMERIC, 0, 0);
    int32_t l;
    uint8_t *s = encode(SW_DT_NUMERIC, 1, "Infinity", &l);
    const uint8_t *v[3] = {s, NULL, NULL};
    int32_t len[3] = {l, -1, -1};
    assert_int_equal(sw_agg_add(a, v, len, err, sizeof err), 0);
    expect_hex(a, "00000000d0000020");
    free(s);
    s = encode(SW_DT_NUMERIC, 1, "-Infinity", &l);
    v[0] = s;
    len[0] = l;
    assert_int_equal(sw_agg_add(a, v, len, err, sizeof err), 0);
    expect_hex(a, "00000000c0000000");
    free(s);
    sw_agg_free(a);
    /* int8 and float8 results are big-endian */
    a = mk(SW_AGG_COUNT, SW_DT_INT8, 1, SW_DT_INT8, 0, 0);
    s = encode(SW_DT_INT8, 1, "258", &l);
    v[0] = s;
    len[0] = l;
    assert_int_equal(sw_agg_add(a, v, len, err, sizeof err), 0);
    expect_hex(a, "0000000000000102");
    free(s);
    sw_agg_free(a);
    a = mk(SW_AGG_SUM, SW_DT_FLOAT8, 1, SW_DT_FLOAT8, 0, 0);
    s = encode(SW_DT_FLOAT8, 1, "1.5", &l);
    v[0] = s;
    len[0] = l;
    assert_int_equal(sw_agg_add(a, v, len, err, sizeof err), 0);
    expect_hex(a, "3ff8000000000000");
    free(s);
    sw_agg_free(a);
}

static void test_avg_float4_uses_avg_times_count(void **state)
{
    (void)state;
    char err[128];
    /* float4 sums are rounded on the shard; the float8 avg * count is not:
     * avg(real) over 1.1, 2.2, 3.3, 4.4 is 2.7500000298023224 on
     * PostgreSQL, while the float4 sums would give 2.75. */
    sw_agg *a = mk(SW_AGG_AVG, SW_DT_FLOAT8, 0, SW_DT_INT8, SW_DT_FLOAT4, SW_DT_FLOAT8);
    assert_int_equal(add3(a, "2", "5.5", "2.7500000596046448", err, sizeof err), 0);
    assert_int_equal(add3(a, "1", "2.2", "2.200000047683716", err, sizeof err), 0);
    assert_int_equal(add3(a, "1", "3.3", "3.299999952316284", err, sizeof err), 0);
    expect_text(a, "2.7500000298023224");
    /* A shard with rows must send its avg. */
    assert_int_equal(add3(a, "1", "3.3", NULL, err, sizeof err), -1);
    sw_agg_free(a);
}

static void test_refused(void **state)
{
    (void)state;
    sw_agg_col none[3] = {{0, 0}, {0, 0}, {0, 0}};
    sw_agg_col i8num[3] = {{SW_DT_INT8, 0}, {SW_DT_NUMERIC, 0}, {SW_DT_NUMERIC, 0}};
    assert_null(sw_agg_new(SW_AGG_SUM, (sw_agg_col){SW_DT_TEXT, 0}, none));
    assert_null(sw_agg_new(SW_AGG_SUM, (sw_agg_col){SW_DT_INT4, 0}, none));
    assert_null(sw_agg_new(SW_AGG_COUNT, (sw_agg_col){SW_DT_NUMERIC, 0}, none));
    assert_null(sw_agg_new(SW_AGG_MIN, (sw_agg_col){SW_DT_UNSUPPORTED, 0}, none));
    assert_null(sw_agg_new(SW_AGG_BOOL_AND, (sw_agg_col){SW_DT_INT4, 0}, none));
    assert_null(sw_agg_new(SW_AGG_AVG, (sw_agg_col){SW_DT_UNSUPPORTED, 0}, i8num));
    assert_null(sw_agg_new(SW_AGG_AVG, (sw_agg_col){SW_DT_NUMERIC, 0}, none));
    assert_null(sw_agg_new(SW_AGG_VAR_SAMP, (sw_agg_col){SW_DT_INT8, 0}, i8num));
    assert_null(sw_agg_new(SW_AGG_VAR_SAMP, (sw_agg_col){SW_DT_NUMERIC, 0}, none));
    assert_null(sw_agg_new(SW_AGG_SUM, (sw_agg_col){SW_DT_INT8, 2}, none));
    assert_null(sw_agg_new((sw_agg_kind)99, (sw_agg_col){SW_DT_INT8, 0}, none));
    sw_agg *a = sw_agg_new(SW_AGG_STDDEV_POP, (sw_agg_col){SW_DT_FLOAT8, 0}, i8num);
    assert_non_null(a);
    sw_agg_free(a);
    sw_agg_free(NULL);
}

static void test_bad_partials(void **state)
{
    (void)state;
    char err[128];
    sw_agg *a = mk(SW_AGG_SUM, SW_DT_NUMERIC, 0, SW_DT_NUMERIC, 0, 0);
    assert_int_equal(add1(a, "1.2.3", err, sizeof err), -1);
    sw_agg_free(a);
    a = mk(SW_AGG_SUM, SW_DT_INT8, 1, SW_DT_INT8, 0, 0);
    const uint8_t four[4] = {0, 0, 0, 4};
    const uint8_t *v[3] = {four, NULL, NULL};
    int32_t l[3] = {4, -1, -1};
    assert_int_equal(sw_agg_add(a, v, l, err, sizeof err), -1);
    sw_agg_free(a);
    a = mk(SW_AGG_COUNT, SW_DT_INT8, 0, SW_DT_INT8, 0, 0);
    assert_int_equal(add1(a, "12x", err, sizeof err), -1);
    sw_agg_free(a);
}

static void test_final_buffer_and_size(void **state)
{
    (void)state;
    char err[128];
    sw_agg *a = mk(SW_AGG_SUM, SW_DT_NUMERIC, 0, SW_DT_NUMERIC, 0, 0);
    size_t s0 = sw_agg_size(a);
    assert_int_equal(add1(a, "123456789012345678901234567890123456789012345678901234567890.5", err, sizeof err), 0);
    assert_true(sw_agg_size(a) > s0);
    uint8_t small[8];
    int len = sw_agg_final(a, small, sizeof small, err, sizeof err);
    assert_int_equal(len, 62);
    assert_memory_equal(small, "12345678", 8);
    char big[80];
    assert_int_equal(sw_agg_final(a, (uint8_t *)big, sizeof big, err, sizeof err), 62);
    big[62] = '\0';
    assert_string_equal(big, "123456789012345678901234567890123456789012345678901234567890.5");
    /* Adding after final recomputes. */
    assert_int_equal(add1(a, "-0.50", err, sizeof err), 0);
    expect_text(a, "123456789012345678901234567890123456789012345678901234567890.00");
    sw_agg_free(a);
}

/* numeric_stddev_internal's scale and rounding on values picked to need
 * them (PostgreSQL 15: var_samp over 1, 2, 2, 2 = 0.25000000000000000000,
 * stddev_samp = 0.50000000000000000000; over 0.1, 0.2, 0.4:
 * var_samp 0.02333333333333333333, stddev_samp 0.15275252316519466688). */
static void test_var_scales(void **state)
{
    (void)state;
    char err[128];
    const char *want_vs[] = {"0.25000000000000000000", "0.02333333333333333333"};
    const char *want_ss[] = {"0.50000000000000000000", "0.15275252316519466688"};
    const char *sets[2][3][3] = {{{"2", "3", "5"}, {"1", "2", "4"}, {"1", "2", "4"}},
                                 {{"1", "0.1", "0.01"}, {"1", "0.2", "0.04"}, {"1", "0.4", "0.16"}}};
    for (int k = 0; k < 2; k++) {
        sw_agg *v = mk(SW_AGG_VAR_SAMP, SW_DT_NUMERIC, 0, SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC);
        sw_agg *s = mk(SW_AGG_STDDEV_SAMP, SW_DT_NUMERIC, 0, SW_DT_INT8, SW_DT_NUMERIC, SW_DT_NUMERIC);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(add3(v, sets[k][i][0], sets[k][i][1], sets[k][i][2], err, sizeof err), 0);
            assert_int_equal(add3(s, sets[k][i][0], sets[k][i][1], sets[k][i][2], err, sizeof err), 0);
        }
        expect_text(v, want_vs[k]);
        expect_text(s, want_ss[k]);
        sw_agg_free(v);
        sw_agg_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_cases_text),
        cmocka_unit_test(test_pg_cases_binary),
        cmocka_unit_test(test_int8_sum_overflow),
        cmocka_unit_test(test_float_sum_overflow),
        cmocka_unit_test(test_nulls_and_empty),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_minmax_keeps_bytes),
        cmocka_unit_test(test_binary_numeric_output),
        cmocka_unit_test(test_avg_float4_uses_avg_times_count),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bad_partials),
        cmocka_unit_test(test_final_buffer_and_size),
        cmocka_unit_test(test_var_scales),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
