-- Written by `python -m vigil.schema` from a freshly migrated database; do not edit.
-- Tables come from the numbered migrations, functions, views and triggers from
-- sql/functions/ (docs/sql.md).

--
-- PostgreSQL database dump
--

--
-- Name: public; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA public;

--
-- Name: SCHEMA public; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA public IS 'standard public schema';

--
-- Name: vigil_hist; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.vigil_hist AS integer[];

--
-- Name: notify_slot_states(integer[], timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.notify_slot_states(monitor_ids integer[], from_ts timestamp with time zone, to_ts timestamp with time zone) RETURNS TABLE(monitor_id integer, slot timestamp with time zone, state text)
    LANGUAGE sql STABLE
    AS $$
    SELECT s.monitor_id, s.slot, s.status FROM vigil_slots(monitor_ids, from_ts, to_ts) s
$$;

--
-- Name: vigil_hist_alpha(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_alpha() RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 0.005::float8 $$;

--
-- Name: vigil_hist_bounds(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_bounds() RETURNS bigint[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$SELECT '{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,112,113,114,115,116,117,118,120,121,122,123,124,126,127,128,130,131,132,133,135,136,138,139,140,142,143,145,146,147,149,150,152,153,155,157,158,160,161,163,165,166,168,170,171,173,175,176,178,180,182,184,185,187,189,191,193,195,197,199,201,203,205,207,209,211,213,215,218,220,222,224,226,229,231,233,236,238,240,243,245,248,250,253,255,258,260,263,266,268,271,274,276,279,282,285,288,291,293,296,299,302,305,308,312,315,318,321,324,328,331,334,337,341,344,348,351,355,358,362,366,369,373,377,380,384,388,392,396,400,404,408,412,416,420,425,429,433,438,442,446,451,455,460,465,469,474,479,484,488,493,498,503,508,513,519,524,529,534,540,545,551,556,562,567,573,579,585,590,596,602,608,615,621,627,633,640,646,653,659,666,672,679,686,693,700,707,714,721,728,736,743,750,758,766,773,781,789,797,805,813,821,829,838,846,855,863,872,881,889,898,907,917,926,935,944,954,964,973,983,993,1003,1013,1023,1033,1044,1054,1065,1075,1086,1097,1108,1119,1131,1142,1153,1165,1177,1189,1200,1213,1225,1237,1249,1262,1275,1287,1300,1313,1327,1340,1353,1367,1381,1395,1409,1423,1437,1452,1466,1481,1496,1511,1526,1541,1557,1572,1588,1604,1620,1637,1653,1670,1686,1703,1720,1738,1755,1773,1791,1809,1827,1845,1864,1882,1901,1920,1940,1959,1979,1999,2019,2039,2060,2080,2101,2122,2144,2165,2187,2209,2231,2254,2276,2299,2322,2346,2369,2393,2417,2441,2466,2491,2516,2541,2566,2592,2618,2645,2671,2698,2725,2752,2780,2808,2836,2865,2894,2923,2952,2982,3012,3042,3072,3103,3135,3166,3198,3230,3262,3295,3328,3362,3396,3430,3464,3499,3534,3570,3605,3642,3678,3715,3753,3790,3828,3867,3906,3945,3985,4025,4065,4106,4147,4189,4231,4273,4316,4360,4404,4448,4493,4538,4583,4629,4676,4723,4770,4818,4867,4916,4965,5015,5065,5116,5168,5220,5272,5325,5378,5433,5487,5542,5598,5654,5711,5768,5826,5885,5944,6004,6064,6125,6187,6249,6312,6375,6439,6504,6569,6635,6702,6769,6837,6906,6975,7046,7116,7188,7260,7333,7407,7481,7556,7632,7709,7786,7865,7944,8024,8104,8186,8268,8351,8435,8520,8605,8692,8779,8867,8956,9046,9137,9229,9322,9416,9510,9606,9702,9800,9898,9998,10098,10200,10302,10406,10510,10616,10723,10831,10939,11049,11160,11273,11386,11500,11616,11733,11850,11970,12090,12211,12334,12458,12583,12710,12837,12966,13097,13228,13361,13496,13631,13768,13907,14046,14187,14330,14474,14620,14766,14915,15065,15216,15369,15524,15680,15837,15996,16157,16319,16483,16649,16816,16985,17156,17329,17503,17679,17856,18036,18217,18400,18585,18772,18960,19151,19343,19538,19734,19933,20133,20335,20540,20746,20954,21165,21378,21593,21810,22029,22250,22474,22700,22928,23158,23391,23626,23863,24103,24346,24590,24837,25087,25339,25594,25851,26111,26373,26638,26906,27176,27450,27725,28004,28285,28570,28857,29147,29440,29736,30035,30336,30641,30949,31260,31574,31892,32212,32536,32863,33193,33527,33864,34204,34548,34895,35246,35600,35958,36319,36684,37053,37425,37801,38181,38565,38953,39344,39739,40139,40542,40950,41361,41777,42197,42621,43049,43482,43919,44360,44806,45256,45711,46171,46635,47103,47577,48055,48538,49026,49518,50016,50519,51026,51539,52057,52580,53109,53643,54182,54726,55276,55832,56393,56960,57532,58110,58694,59284,59880,60482,61090,61704,62324,62950,63583,64222,64867,65519,66178,66843,67515,68193,68879,69571,70270,70976,71690,72410,73138,73873,74615,75365,76123,76888,77660,78441,79229,80025,80830,81642,82463,83291,84128,84974,85828,86691,87562,88442,89331,90229,91135,92051,92976,93911,94855,95808,96771,97743,98726,99718,100720,101732,102755,103788,104831,105884,106948,108023,109109,110205,111313,112432,113562,114703,115856,117020,118196,119384,120584,121796,123020,124256,125505,126766,128041,129327,130627,131940,133266,134605,135958,137325,138705,140099,141507,142929,144365,145816,147282,148762,150257,151767,153292,154833,156389,157961,159548,161152,162772,164407,166060,167729,169414,171117,172837,174574,176328,178101,179891,181698,183525,185369,187232,189114,191014,192934,194873,196832,198810,200808,202826,204865,206923,209003,211104,213225,215368,217533,219719,221927,224158,226410,228686,230984,233306,235651,238019,240411,242827,245268,247733,250222,252737,255277,257843,260434,263052,265695,268366,271063,273787,276539,279318,282125,284961,287825,290717,293639,296590,299571,302582,305623,308694,311797,314930,318096,321293,324522,327783,331077,334405,337766,341160,344589,348052,351550,355083,358652,362257,365897,369575,373289,377041,380830,384657,388523,392428,396372,400356,404379,408444,412548,416695,420883,425113,429385,433700,438059,442462,446909,451400,455937,460519,465147,469822,474544,479313,484131,488996,493911,498875,503889,508953,514068,519234,524453,529724,535048,540425,545856,551342,556883,562480,568133,573843,579610,585436,591319,597262,603265,609328,615452,621637,627885,634195,640569,647007,653510,660077,666711,673412,680180,687016,693921,700895,707939,715054,722240,729499,736831,744236,751716,759271,766901,774609,782394,790257,798200,806222,814324,822509,830775,839124,847558,856076,864680,873370,882148,891013,899968,909013,918149,927377,936697,946111,955620,965224,974925,984723,994620,1004616,1014712,1024910,1035211,1045615,1056124,1066738,1077459,1088288,1099225,1110273,1121431,1132702,1144086,1155584,1167198,1178929,1190777,1202745,1214833,1227042,1239374,1251830,1264412,1277119,1289955,1302919,1316014,1329240,1342599,1356093,1369722,1383488,1397392,1411436,1425622,1439949,1454421,1469039,1483803,1498715,1513778,1528992,1544358,1559880,1575557,1591391,1607385,1623540,1639857,1656338,1672985,1689798,1706781,1723935,1741261,1758761,1776437,1794291,1812324,1830538,1848935,1867518,1886287,1905244,1924392,1943733,1963268,1982999,2002929,2023059,2043391,2063928,2084671,2105622,2126784,2148159,2169748,2191555,2213581,2235828,2258298,2280995,2303919,2327074,2350462,2374085,2397945,2422045,2446387,2470974,2495808,2520891,2546227,2571817,2597664,2623772,2650141,2676776,2703678,2730851,2758296,2786018,2814018,2842300,2870865,2899718,2928861,2958297,2988029,3018059,3048391,3079028,3109973,3141229,3172800,3204687,3236895,3269427,3302285,3335474,3368996,3402855,3437055,3471598,3506489,3541730,3577325,3613278,3649592,3686272,3723320,3760740,3798536,3836713,3875273,3914220,3953559,3993293,4033427,4073964,4114908,4156264,4198035,4240227,4282842,4325886,4369362,4413275,4457630,4502430,4547680,4593386,4639550,4686179,4733276,4780847,4828896,4877427,4926447,4975959,5025968,5076481,5127500,5179033,5231084,5283657,5336759,5390395,5444570,5499289,5554559,5610383,5666769,5723721,5781246,5839349,5898036,5957313,6017185,6077660,6138742,6200438,6262753,6325696,6389271,6453484,6518343,6583854,6650024,6716858,6784364,6852549,6921419,6990981,7061242,7132209,7203890,7276290,7349419,7423282,7497888,7573244,7649357,7726235,7803886,7882317,7961536,8041551,8122371,8204003,8286455,8369736,8453854,8538817,8624635,8711314,8798865,8887296,8976615,9066833,9157957,9249996,9342961,9436860,9531703,9627499,9724258,9821989,9920703,10020408,10121116,10222836,10325578,10429352,10534170,10640041,10746976,10854986,10964081,11074273,11185572,11297990,11411537,11526226,11642068,11759073,11877255,11996625,12117194,12238974,12361979,12486220,12611710,12738461,12866485,12995797,13126408,13258332,13391581,13526170,13662111,13799419,13938106,14078188,14219677,14362589,14506936,14652735,14799998,14948742,15098981,15250729,15404003,15558817,15715187,15873128,16032657,16193790,16356541,16520929,16686968,16854676,17024070,17195166,17367982,17542534,17718841,17896920,18076789,18258465,18441967,18627313,18814523,19003613,19194604,19387515,19582364,19779172,19977958,20178741,20381543,20586382,20793281,21002258,21213336,21426536,21641878,21859384,22079076,22300976,22525107,22751490,22980148,23211104,23444382,23680004,23917994,24158375,24401173,24646411,24894114,25144306,25397012,25652259,25910070,26170473,26433493,26699156,26967489,27238519,27512273,27788779,28068063,28350154,28635080,28922870,29213552,29507156,29803710,30103245,30405790,30711376,31020033,31331792,31646684,31964741,32285995,32610477,32938221,33269258,33603623,33941347,34282466,34627014,34975024,35326532,35681572,36040181,36402394,36768247,37137777,37511021,37888016,38268801,38653412,39041888,39434269,39830593,40230901,40635231,41043626,41456124,41872769,42293601,42718662,43147995,43581643,44019650,44462058,44908913,45360259,45816141,46276605,46741696,47211462,47685949,48165205,48649277,49138215,49632066,50130881,50634709,51143600,51657606,52176778,52701168,53230828,53765811,54306171,54851962,55403238,55960054,56522467,57090532,57664306,58243847,58829212,59420460,60017651,60620843,61230098,61845476,62467039,63094848,63728967,64369459,65016388,65669820,66329818,66996449,67669780,68349878,69036812,69730649,70431460,71139314,71854282,72576435,73305847,74042589,74786735,75538361,76297540,77064350,77838866,78621166,79411328,80209432,81015557,81829784,82652194,83482869,84321893,85169349,86025322,86889899,87763164,88645206,89536112,90435973,91344877,92262916,93190181,94126766,95072764,96028269,96993377,97968185,98952790,99947290,100951786,101966376,102991164,104026251,105071741,106127739,107194349,108271679,109359837,110458931,111569071,112690368,113822934,114966883,116122329,117289388,118468176,119658811,120861412,122076099,123302995,124542221,125793901,127058162,128335128,129624928,130927692,132243548,133572629,134915067,136270997,137640555,139023877,140421102,141832370,143257821,144697598,146151845,147620708,149104333,150602869,152116465,153645274,155189448,156749141,158324509,159915710,161522903,163146249,164785910,166442049,168114834,169804430,171511007,173234736,174975789,176734339,178510564,180304640,182116747,183947066,185795780,187663074,189549135,191454152,193378314,195321815,197284848,199267610,201270300,203293117,205336264,207399945,209484366,211589737,213716267,215864169,218033658,220224951,222438267,224673828,226931856,229212578,231516222,233843019,236193200,238567001,240964659,243386414,245832509,248303188,250798697,253319287,255865209,258436719,261034073,263657531,266307355,268983811,271687166,274417690,277175657,279961342,282775024,285616984,288487506,291386878,294315390,297273333,300261005,303278703,306326731,309405391,312514993,315655847,318828268,322032572,325269080,328538116,331840007,335175082,338543676,341946125,345382770,348853953,352360023,355901330,359478228,363091074,366740231,370426062,374148937,377909228,381707311,385543565,389418375,393332127,397285214,401278030,405310975,409384452,413498869,417654636,421852170,426091891,430374221,434699590,439068430,443481179,447938276,452440168,456987305,461580143,466219139,470904758,475637470,480417746,485246065,490122910,495048768,500024132,505049501,510125375,515252263,520430678,525661137,530944163,536280286,541670037,547113957,552612590,558166485,563776199,569442291,575165329,580945885,586784538,592681870,598638471,604654938,610731872,616869881,623069578,629331584,635656525,642045033,648497746,655015312,661598380,668247610,674963666,681747221,688598952,695519544,702509690,709570089,716701447,723904477,731179898,738528440,745950837,753447830,761020170,768668614,776393926,784196880,792078256,800038842,808079433,816200834,824403858,832689324,841058061,849510905,858048703,866672309,875382583,884180398,893066633,902042177,911107928,920264791,929513684,938855530,948291264,957821829,967448179,977171276,986992093,996911612,1006930824,1017050732,1027272347,1037596692,1048024800,1058557712,1069196483,1079942177,1090795867,1101758639,1112831590,1124015827,1135312469,1146722645,1158247495,1169888174,1181645844,1193521681,1205516874,1217632622,1229870135,1242230639,1254715369,1267325574,1280062514,1292927464,1305921710,1319046551,1332303301,1345693284,1359217839,1372878320,1386676092,1400612535,1414689043,1428907023,1443267898,1457773103,1472424089,1487222321,1502169279,1517266458,1532515367,1547917531,1563474491,1579187803,1595059037,1611089781,1627281638,1643636228,1660155185,1676840161,1693692826,1710714865,1727907979,1745273888,1762814329,1780531056,1798425841,1816500472,1834756758,1853196525,1871821616,1890633893,1909635239,1928827553,1948212754,1967792782,1987569594,2007545168,2027721501,2048100611,2068684537,2089475337,2110475089,2131685894,2153109872}'::bigint[]$$;

--
-- Name: vigil_hist_compact(integer[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_compact(h integer[]) RETURNS public.vigil_hist
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(array_agg(vigil_hist_entry(s.k, least(s.c - p * vigil_hist_entry_max_count(),
                                                          vigil_hist_entry_max_count()))
                              ORDER BY s.k, p), '{}')::vigil_hist
    FROM (SELECT vigil_hist_entry_bucket(e) AS k, sum(vigil_hist_entry_count(e)) AS c
          FROM unnest(h) AS e GROUP BY 1) AS s,
         generate_series(0, ((s.c - 1) / vigil_hist_entry_max_count())::integer) AS p
$$;

--
-- Name: vigil_hist_count(public.vigil_hist); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_count(h public.vigil_hist) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(sum(vigil_hist_entry_count(e)), 0)::bigint FROM unnest(h) AS e
$$;

--
-- Name: vigil_hist_entry(integer, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_entry(bucket_index integer, n bigint) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT (bucket_index + n * (1 << vigil_hist_index_bits()))::integer
$$;

--
-- Name: vigil_hist_entry_bucket(integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_entry_bucket(entry integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT entry & ((1 << vigil_hist_index_bits()) - 1) $$;

--
-- Name: vigil_hist_entry_count(integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_entry_count(entry integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT entry >> vigil_hist_index_bits() $$;

--
-- Name: vigil_hist_entry_max_count(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_entry_max_count() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (1 << (31 - vigil_hist_index_bits())) - 1 $$;

--
-- Name: vigil_hist_index(integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_index(latency_us integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT width_bucket(latency_us::bigint, vigil_hist_bounds()) $$;

--
-- Name: vigil_hist_index_bits(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_index_bits() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 11 $$;

--
-- Name: vigil_hist_merge_step(integer[], integer[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_merge_step(state integer[], h integer[]) RETURNS integer[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF h IS NULL THEN
        RETURN state;
    END IF;
    state := state || h;
    IF cardinality(state) > 8192 THEN
        state := vigil_hist_compact(state);
    END IF;
    RETURN state;
END
$$;

--
-- Name: vigil_hist_quantile(public.vigil_hist, double precision); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_quantile(h public.vigil_hist, q double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (vigil_hist_quantiles(h, ARRAY[q]))[1] $$;

--
-- Name: vigil_hist_quantiles(public.vigil_hist, double precision[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_quantiles(h public.vigil_hist, qs double precision[]) RETURNS double precision[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    entries integer[] := coalesce(h, '{}');
    n      bigint := 0;
    cum    bigint;
    e      integer;
    q      float8;
    rank   float8;
    lo     bigint;
    hi     bigint;
    v_lo   float8;
    v_hi   float8;
    result float8[] := '{}';
BEGIN
    FOREACH e IN ARRAY entries LOOP
        n := n + vigil_hist_entry_count(e);
    END LOOP;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    FOREACH q IN ARRAY qs LOOP
        IF q IS NULL OR q < 0 OR q > 1 THEN
            RAISE EXCEPTION 'quantile % is outside [0, 1]', q USING ERRCODE = 'invalid_parameter_value';
        END IF;
        rank := q * (n - 1)::float8;
        lo := floor(rank);
        hi := ceil(rank);
        cum := 0;
        v_lo := NULL;
        FOREACH e IN ARRAY entries LOOP
            cum := cum + vigil_hist_entry_count(e);
            IF v_lo IS NULL AND cum > lo THEN
                v_lo := vigil_hist_value(vigil_hist_entry_bucket(e));
            END IF;
            IF cum > hi THEN
                v_hi := vigil_hist_value(vigil_hist_entry_bucket(e));
                EXIT;
            END IF;
        END LOOP;
        result := result || (v_lo + (rank - lo::float8) * (v_hi - v_lo));
    END LOOP;
    RETURN result;
END
$$;

--
-- Name: vigil_hist_value(integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_hist_value(k integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN k = 0 THEN 0::float8
                ELSE (b[k] + coalesce(b[k + 1] - 1, b[k]))::float8 / 2.0 END
    FROM (SELECT vigil_hist_bounds() AS b) s
$$;

--
-- Name: vigil_in_maintenance(integer, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_in_maintenance(monitor_id integer, ts timestamp with time zone) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT EXISTS (
        SELECT 1
        FROM monitors m
        JOIN maintenance_windows w ON w.account_id = m.account_id
                                  AND (w.monitor_id IS NULL OR w.monitor_id = m.id)
        CROSS JOIN LATERAL vigil_maintenance_occurrences(w, ts, ts + interval '1 microsecond') r
        WHERE m.id = vigil_in_maintenance.monitor_id AND ts <@ r)
$$;

--
-- Name: maintenance_windows; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.maintenance_windows (
    id integer NOT NULL,
    account_id integer NOT NULL,
    monitor_id integer,
    name text DEFAULT ''::text NOT NULL,
    starts_at timestamp with time zone,
    ends_at timestamp with time zone,
    weekdays smallint[],
    start_time time without time zone,
    duration_s integer,
    time_zone text DEFAULT 'UTC'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT maintenance_windows_check CHECK (((starts_at IS NULL) OR (ends_at IS NULL) OR (starts_at < ends_at))),
    CONSTRAINT maintenance_windows_check1 CHECK ((((weekdays IS NULL) AND (starts_at IS NOT NULL) AND (ends_at IS NOT NULL)) OR ((weekdays IS NOT NULL) AND (start_time IS NOT NULL) AND (duration_s IS NOT NULL) AND ((cardinality(weekdays) >= 1) AND (cardinality(weekdays) <= 7)) AND (weekdays <@ '{1,2,3,4,5,6,7}'::smallint[])))),
    CONSTRAINT maintenance_windows_duration_s_check CHECK (((duration_s >= 60) AND (duration_s <= 86400)))
);

--
-- Name: vigil_maintenance_occurrences(public.maintenance_windows, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_maintenance_occurrences(w public.maintenance_windows, from_ts timestamp with time zone, to_ts timestamp with time zone) RETURNS SETOF tstzrange
    LANGUAGE sql STABLE
    AS $$
    SELECT tstzrange(w.starts_at, w.ends_at)
    WHERE w.weekdays IS NULL AND w.starts_at < to_ts AND w.ends_at > from_ts
    UNION ALL
    SELECT r * tstzrange(w.starts_at, w.ends_at)
    FROM generate_series(((from_ts AT TIME ZONE w.time_zone)::date - 1)::timestamp,
                         (to_ts AT TIME ZONE w.time_zone)::date::timestamp, interval '1 day') AS d(day),
         LATERAL (SELECT ((d.day::date + w.start_time) AT TIME ZONE w.time_zone) AS s) o,
         LATERAL (SELECT tstzrange(o.s, o.s + w.duration_s * interval '1 second') AS r) x
    WHERE w.weekdays IS NOT NULL
      AND extract(isodow FROM d.day)::smallint = ANY (w.weekdays)
      AND r && tstzrange(from_ts, to_ts)
      AND NOT isempty(r * tstzrange(w.starts_at, w.ends_at))
$$;

--
-- Name: vigil_maintenance_periods(integer[], timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_maintenance_periods(monitor_ids integer[], from_ts timestamp with time zone, to_ts timestamp with time zone) RETURNS TABLE(monitor_id integer, period tstzrange)
    LANGUAGE sql STABLE
    AS $$
    SELECT m.id, r
    FROM monitors m
    JOIN maintenance_windows w ON w.account_id = m.account_id AND (w.monitor_id IS NULL OR w.monitor_id = m.id)
    CROSS JOIN LATERAL vigil_maintenance_occurrences(w, from_ts, to_ts) r
    WHERE m.id = ANY (monitor_ids)
$$;

--
-- Name: vigil_mark_late_row(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_mark_late_row() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO rollup_dirty (monitor_id, bucket)
    VALUES (NEW.monitor_id, time_bucket(interval '1 hour', NEW.time))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

--
-- Name: vigil_missed_kind(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_missed_kind() RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 13::smallint $$;

--
-- Name: vigil_monitor_schedule_changed(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_monitor_schedule_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.schedule_changed_at := now();
    RETURN NEW;
END $$;

--
-- Name: vigil_monitor_slots(integer, timestamp with time zone, timestamp with time zone, smallint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_monitor_slots(p_monitor integer, p_from timestamp with time zone, p_to timestamp with time zone, p_region smallint DEFAULT NULL::smallint) RETURNS TABLE(slot timestamp with time zone, status text, regions_up integer, regions_down integer, regions_missed integer, latency_us integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT s.slot, s.status, s.regions_up, s.regions_down, s.regions_missed, s.latency_us
    FROM vigil_slots(ARRAY[p_monitor], p_from, p_to, p_region) s
$$;

--
-- Name: vigil_monitors_in_maintenance(timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_monitors_in_maintenance(from_ts timestamp with time zone, to_ts timestamp with time zone) RETURNS TABLE(monitor_id integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT DISTINCT m.id
    FROM maintenance_windows w
    CROSS JOIN LATERAL vigil_maintenance_occurrences(w, from_ts, to_ts) r
    JOIN monitors m ON m.account_id = w.account_id AND (w.monitor_id IS NULL OR w.monitor_id = m.id)
$$;

--
-- Name: vigil_raw_kept_from(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_raw_kept_from() RETURNS timestamp with time zone
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT coalesce((SELECT h.kept_from FROM retention_horizons h WHERE h.source = 'raw'), '-infinity')
$$;

--
-- Name: vigil_raw_rows_stats(timestamp with time zone[], integer[], smallint[], boolean[], smallint[], integer[], boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_raw_rows_stats(times timestamp with time zone[], monitor_ids integer[], region_ids smallint[], ups boolean[], error_kinds smallint[], latencies integer[], per_region boolean) RETURNS TABLE(bucket timestamp with time zone, monitor_id integer, region_id smallint, slots bigint, up_slots bigint, down_slots bigint, missed_slots bigint, checks bigint, latency_min_us integer, latency_max_us integer, latency_sum_us bigint, hist public.vigil_hist)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
BEGIN
    IF per_region THEN
        RETURN QUERY
        WITH r AS (
            SELECT time_bucket(interval '1 hour', u.time) AS bucket, u.monitor_id, u.region_id, u.up,
                   u.latency_us, vigil_result_down(u.up, u.error_kind) AS down, NOT u.up AND u.error_kind = vigil_missed_kind() AS missed
            FROM unnest(times, monitor_ids, region_ids, ups, error_kinds, latencies)
                 AS u(time, monitor_id, region_id, up, error_kind, latency_us)),
        -- At most 360 results per hour and region: each count packs into one entry.
        h AS (
            SELECT b.bucket, b.monitor_id, b.region_id, array_agg(vigil_hist_entry(b.k, b.c) ORDER BY b.k) AS hist
            FROM (SELECT r.bucket, r.monitor_id, r.region_id, vigil_hist_index(r.latency_us) AS k, count(*) AS c
                  FROM r WHERE r.up GROUP BY 1, 2, 3, 4) AS b
            GROUP BY 1, 2, 3)
        SELECT c.bucket, c.monitor_id, c.region_id, c.slots, c.up_slots, c.down_slots, c.missed_slots,
               c.checks, c.latency_min_us, c.latency_max_us, c.latency_sum_us, coalesce(h.hist, '{}')::vigil_hist
        FROM (SELECT r.bucket, r.monitor_id, r.region_id,
                     count(*) AS slots, count(*) FILTER (WHERE r.up) AS up_slots,
                     count(*) FILTER (WHERE r.down) AS down_slots,
                     count(*) FILTER (WHERE r.missed) AS missed_slots,
                     count(*) FILTER (WHERE NOT r.missed) AS checks,
                     min(r.latency_us) FILTER (WHERE r.up) AS latency_min_us,
                     max(r.latency_us) FILTER (WHERE r.up) AS latency_max_us,
                     coalesce(sum(r.latency_us) FILTER (WHERE r.up), 0)::bigint AS latency_sum_us
              FROM r GROUP BY 1, 2, 3) AS c
        LEFT JOIN h USING (bucket, monitor_id, region_id);
    ELSE
        RETURN QUERY
        WITH r AS (
            SELECT u.time, u.monitor_id, u.up, u.latency_us,
                   vigil_result_down(u.up, u.error_kind) AS down, NOT u.up AND u.error_kind = vigil_missed_kind() AS missed
            FROM unnest(times, monitor_ids, region_ids, ups, error_kinds, latencies)
                 AS u(time, monitor_id, region_id, up, error_kind, latency_us)),
        -- Counts per latency bucket over all regions: at most 360 per hour and region.
        h AS (
            SELECT b.bucket, b.monitor_id, array_agg(vigil_hist_entry(b.k, b.c) ORDER BY b.k) AS hist
            FROM (SELECT time_bucket(interval '1 hour', r.time) AS bucket, r.monitor_id,
                         vigil_hist_index(r.latency_us) AS k, count(*) AS c
                  FROM r WHERE r.up GROUP BY 1, 2, 3) AS b
            GROUP BY 1, 2),
        c AS (
            SELECT time_bucket(interval '1 hour', r.time) AS bucket, r.monitor_id,
                   count(*) FILTER (WHERE NOT r.missed) AS checks,
                   min(r.latency_us) FILTER (WHERE r.up) AS latency_min_us,
                   max(r.latency_us) FILTER (WHERE r.up) AS latency_max_us,
                   coalesce(sum(r.latency_us) FILTER (WHERE r.up), 0)::bigint AS latency_sum_us
            FROM r GROUP BY 1, 2),
        q AS (
            SELECT j.bucket, j.monitor_id, count(*) AS slots,
                   count(*) FILTER (WHERE j.status = 'up') AS up_slots,
                   count(*) FILTER (WHERE j.status = 'down') AS down_slots,
                   count(*) FILTER (WHERE j.status = 'missed') AS missed_slots
            FROM (SELECT time_bucket(interval '1 hour', s.time) AS bucket, s.monitor_id,
                         vigil_slot_status(s.n_down, s.n_up + s.n_down, coalesce(k.k, 1)) AS status
                  FROM (SELECT r.monitor_id, r.time, count(*) FILTER (WHERE r.up) AS n_up,
                               count(*) FILTER (WHERE r.down) AS n_down
                        FROM r GROUP BY 1, 2) AS s
                  LEFT JOIN (SELECT m.id, m.region_quorum AS k FROM monitors m WHERE m.id = ANY (monitor_ids)) AS k
                         ON k.id = s.monitor_id
                  OFFSET 0) AS j  -- judged once per slot: OFFSET 0 keeps the CASE out of each count
            GROUP BY 1, 2)
        SELECT q.bucket, q.monitor_id, 0::smallint, q.slots, q.up_slots, q.down_slots, q.missed_slots,
               c.checks, c.latency_min_us, c.latency_max_us, c.latency_sum_us, coalesce(h.hist, '{}')::vigil_hist
        FROM q JOIN c USING (bucket, monitor_id) LEFT JOIN h USING (bucket, monitor_id);
    END IF;
END
$$;

--
-- Name: vigil_raw_stats(integer[], timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_raw_stats(monitor_ids integer[], from_ts timestamp with time zone, to_ts timestamp with time zone) RETURNS TABLE(bucket timestamp with time zone, monitor_id integer, region_id smallint, slots bigint, up_slots bigint, down_slots bigint, missed_slots bigint, checks bigint, latency_min_us integer, latency_max_us integer, latency_sum_us bigint, hist public.vigil_hist)
    LANGUAGE sql STABLE
    AS $$
    WITH r AS (
        SELECT c.time, c.monitor_id, c.region_id, c.up, c.latency_us,
               vigil_result_down(c.up, c.error_kind) AS down,
               NOT c.up AND c.error_kind = vigil_missed_kind() AS missed
        FROM check_results c
        WHERE (monitor_ids IS NULL OR c.monitor_id = ANY (monitor_ids))
          AND c.time >= from_ts AND c.time < to_ts),
    -- Counts per latency bucket: at most 360 per hour and region (interval >= 10 s), so
    -- each packs into one entry and array_agg ordered by index is the canonical form.
    bk AS (
        SELECT time_bucket(interval '1 hour', r.time) AS bucket, r.monitor_id, r.region_id,
               vigil_hist_index(r.latency_us) AS k, count(*) AS c
        FROM r WHERE r.up GROUP BY 1, 2, 3, 4),
    hist_region AS (
        SELECT bk.bucket, bk.monitor_id, bk.region_id, array_agg(vigil_hist_entry(bk.k, bk.c) ORDER BY bk.k) AS hist
        FROM bk GROUP BY 1, 2, 3),
    hist_monitor AS (
        SELECT m.bucket, m.monitor_id, array_agg(vigil_hist_entry(m.k, m.c) ORDER BY m.k) AS hist
        FROM (SELECT bk.bucket, bk.monitor_id, bk.k, sum(bk.c)::bigint AS c FROM bk GROUP BY 1, 2, 3) AS m
        GROUP BY 1, 2),
    counts AS (
        SELECT time_bucket(interval '1 hour', r.time) AS bucket, r.monitor_id, r.region_id,
               count(*) AS slots, count(*) FILTER (WHERE r.up) AS up_slots,
               count(*) FILTER (WHERE r.down) AS down_slots,
               count(*) FILTER (WHERE r.missed) AS missed_slots,
               count(*) FILTER (WHERE NOT r.missed) AS checks,
               min(r.latency_us) FILTER (WHERE r.up) AS latency_min_us,
               max(r.latency_us) FILTER (WHERE r.up) AS latency_max_us,
               coalesce(sum(r.latency_us) FILTER (WHERE r.up), 0)::bigint AS latency_sum_us
        FROM r GROUP BY 1, 2, 3),
    slot AS (
        SELECT r.monitor_id, r.time, count(*) FILTER (WHERE r.up) AS n_up,
               count(*) FILTER (WHERE r.down) AS n_down
        FROM r GROUP BY 1, 2),
    quorum AS (
        SELECT j.bucket, j.monitor_id, count(*) AS slots,
               count(*) FILTER (WHERE j.status = 'up') AS up_slots,
               count(*) FILTER (WHERE j.status = 'down') AS down_slots,
               count(*) FILTER (WHERE j.status = 'missed') AS missed_slots
        FROM (SELECT time_bucket(interval '1 hour', s.time) AS bucket, s.monitor_id,
                     vigil_slot_status(s.n_down, s.n_up + s.n_down, coalesce(k.k, 1)) AS status
              FROM slot s
              LEFT JOIN (SELECT m.id, m.region_quorum AS k FROM monitors m) AS k ON k.id = s.monitor_id
              OFFSET 0) AS j  -- judged once per slot: OFFSET 0 keeps the CASE out of each count
        GROUP BY 1, 2)
    SELECT c.bucket, c.monitor_id, c.region_id, c.slots, c.up_slots, c.down_slots, c.missed_slots,
           c.checks, c.latency_min_us, c.latency_max_us, c.latency_sum_us,
           coalesce(h.hist, '{}')::vigil_hist
    FROM counts c LEFT JOIN hist_region h USING (bucket, monitor_id, region_id)
    UNION ALL
    SELECT q.bucket, q.monitor_id, 0::smallint, q.slots, q.up_slots, q.down_slots, q.missed_slots,
           c.checks, c.latency_min_us, c.latency_max_us, c.latency_sum_us,
           coalesce(h.hist, '{}')::vigil_hist
    FROM quorum q
    JOIN (SELECT c.bucket, c.monitor_id, sum(c.checks)::bigint AS checks,
                 min(c.latency_min_us) AS latency_min_us, max(c.latency_max_us) AS latency_max_us,
                 sum(c.latency_sum_us)::bigint AS latency_sum_us
          FROM counts c GROUP BY 1, 2) AS c USING (bucket, monitor_id)
    LEFT JOIN hist_monitor h USING (bucket, monitor_id)
$$;

--
-- Name: vigil_refuse_past_horizon(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_refuse_past_horizon() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.time < vigil_raw_kept_from() THEN
        INSERT INTO refused_late_rows AS r (monitor_id, bucket, rows)
        VALUES (NEW.monitor_id, time_bucket(interval '1 hour', NEW.time), 1)
        ON CONFLICT (monitor_id, bucket) DO UPDATE SET rows = r.rows + 1, last_refused_at = now();
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

--
-- Name: vigil_result_down(boolean, smallint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_result_down(up boolean, error_kind smallint) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT NOT up AND error_kind <> vigil_missed_kind() $$;

--
-- Name: vigil_rule_targets(text, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_rule_targets(rule_kind text, at timestamp with time zone) RETURNS TABLE(rule_id integer, monitor_id integer, account_id integer, params jsonb, recovery_slots integer, monitor_name text, monitor_kind text, interval_s integer, regions text[], region_quorum smallint, slo_target numeric, monitor_created_at timestamp with time zone, open_incident boolean)
    LANGUAGE sql STABLE
    AS $$
    SELECT t.rule_id, t.monitor_id, t.account_id, r.params, r.recovery_slots, m.name, m.kind,
           m.interval_s, m.regions, m.region_quorum, m.slo_target, m.created_at,
           o.rule_id IS NOT NULL
    FROM alert_rule_targets t
    JOIN alert_rules r ON r.id = t.rule_id
    JOIN monitors m ON m.id = t.monitor_id
    LEFT JOIN (SELECT i.rule_id, i.monitor_id FROM incidents i WHERE i.state <> 'resolved') o
           ON o.rule_id = t.rule_id AND o.monitor_id = t.monitor_id
    WHERE t.kind = rule_kind
      AND t.monitor_id NOT IN (SELECT mm.monitor_id
                              FROM vigil_monitors_in_maintenance(at - interval '1 minute', at + interval '1 microsecond') mm)
$$;

--
-- Name: vigil_slot_status(bigint, bigint, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_slot_status(regions_down bigint, regions_usable bigint, quorum integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN regions_down >= quorum THEN 'down'
                WHEN regions_usable < quorum THEN 'missed'
                ELSE 'up' END
$$;

--
-- Name: vigil_slots(integer[], timestamp with time zone, timestamp with time zone, smallint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_slots(monitor_ids integer[], from_ts timestamp with time zone, to_ts timestamp with time zone, p_region smallint DEFAULT NULL::smallint) RETURNS TABLE(monitor_id integer, slot timestamp with time zone, status text, regions_up integer, regions_down integer, regions_missed integer, latency_us integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT s.monitor_id, s.time,
           vigil_slot_status(s.n_down, s.n_up + s.n_down,
                             CASE WHEN p_region IS NULL THEN m.region_quorum ELSE 1 END),
           s.n_up::integer, s.n_down::integer, s.n_missed::integer, s.latency_us::integer
    FROM (SELECT r.monitor_id, r.time,
                 count(*) FILTER (WHERE r.up) AS n_up,
                 count(*) FILTER (WHERE vigil_result_down(r.up, r.error_kind)) AS n_down,
                 count(*) FILTER (WHERE r.error_kind = vigil_missed_kind()) AS n_missed,
                 avg(r.latency_us) FILTER (WHERE r.up) AS latency_us
          FROM check_results r
          WHERE r.monitor_id = ANY (monitor_ids) AND r.time >= from_ts AND r.time < to_ts
            AND (p_region IS NULL OR r.region_id = p_region)
          GROUP BY r.monitor_id, r.time) s
    -- the monitors by the same array, so they are looked up by key, not scanned
    JOIN (SELECT m.id, m.region_quorum FROM monitors m WHERE m.id = ANY (monitor_ids)) m
      ON m.id = s.monitor_id
$$;

--
-- Name: vigil_window_excluded(integer[], timestamp with time zone, timestamp with time zone, smallint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_window_excluded(monitor_ids integer[], from_ts timestamp with time zone, to_ts timestamp with time zone, p_region smallint DEFAULT NULL::smallint) RETURNS TABLE(monitor_id integer, slots bigint, up_slots bigint, down_slots bigint, missed_slots bigint)
    LANGUAGE sql STABLE
    AS $$
    WITH periods AS (
        SELECT p.monitor_id, unnest(range_agg(p.period * tstzrange(from_ts, to_ts))) AS period
        FROM vigil_maintenance_periods(monitor_ids, from_ts, to_ts) p
        GROUP BY p.monitor_id)
    SELECT p.monitor_id, count(*), count(*) FILTER (WHERE s.status = 'up'),
           count(*) FILTER (WHERE s.status = 'down'), count(*) FILTER (WHERE s.status = 'missed')
    FROM periods p
    CROSS JOIN LATERAL vigil_slots(ARRAY[p.monitor_id], lower(p.period),
                                   upper(p.period) + interval '1 microsecond', p_region) s
    WHERE s.slot <@ p.period
    GROUP BY p.monitor_id
$$;

--
-- Name: vigil_window_parts(integer[], timestamp with time zone, timestamp with time zone, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_window_parts(monitor_ids integer[], from_ts timestamp with time zone, to_ts timestamp with time zone, per_region boolean) RETURNS TABLE(monitor_id integer, region_id smallint, slots bigint, up_slots bigint, down_slots bigint, missed_slots bigint, checks bigint, latency_min_us integer, latency_max_us integer, latency_sum_us bigint, hist public.vigil_hist)
    LANGUAGE plpgsql STABLE
    AS $_$
#variable_conflict use_column
DECLARE
    hourly_until timestamptz;
    daily_until  timestamptz;
    raw_from     timestamptz := vigil_raw_kept_from();
    lo           timestamptz;  -- [lo, hi): the hour-aligned middle that rollups may cover
    hi           timestamptz;
    dirty_m      integer[];     -- dirty (monitor, hour) pairs of the asked monitors, as
    dirty_h      timestamptz[]; -- parallel arrays
    days         timestamptz[];
    hours        timestamptz[];
    rng          record;
    scans        text[] := '{}';  -- one range scan of check_results per raw piece
    t  timestamptz[];               -- their rows, as parallel arrays
    m  integer[];
    rg smallint[];
    u  boolean[];
    ek smallint[];
    lt integer[];
BEGIN
    SELECT coalesce(max(s.rolled_until) FILTER (WHERE s.width = interval '1 hour'), '-infinity'),
           coalesce(max(s.rolled_until) FILTER (WHERE s.width = interval '1 day'), '-infinity')
    INTO hourly_until, daily_until FROM rollup_state s;
    lo := least(time_bucket(interval '1 hour', from_ts + interval '1 hour' - interval '1 microsecond'), to_ts);
    hi := greatest(lo, least(time_bucket(interval '1 hour', to_ts), hourly_until));
    SELECT coalesce(array_agg(d.monitor_id ORDER BY d.bucket, d.monitor_id), '{}'),
           coalesce(array_agg(d.bucket ORDER BY d.bucket, d.monitor_id), '{}')
    INTO dirty_m, dirty_h
    FROM rollup_dirty d
    WHERE d.monitor_id = ANY (monitor_ids) AND d.bucket >= greatest(lo, raw_from) AND d.bucket < hi;
    SELECT coalesce(array_agg(g.day), '{}') INTO days
    FROM generate_series(time_bucket(interval '1 day', lo + interval '1 day' - interval '1 microsecond'),
                         least(hi, daily_until) - interval '1 day', interval '1 day') AS g(day)
    WHERE NOT EXISTS (SELECT 1 FROM unnest(dirty_h) AS x(h) WHERE x.h >= g.day AND x.h < g.day + interval '1 day');

    RETURN QUERY
    SELECT r.monitor_id, r.region_id, r.slots::bigint, r.up_slots::bigint, r.down_slots::bigint,
           r.missed_slots::bigint, r.checks::bigint, r.latency_min_us, r.latency_max_us,
           r.latency_sum_us, r.hist
    FROM rollup_1d r
    WHERE r.monitor_id = ANY (monitor_ids) AND r.bucket = ANY (days)
      AND r.region_id BETWEEN CASE WHEN per_region THEN 1 ELSE 0 END AND CASE WHEN per_region THEN 32767 ELSE 0 END;

    -- The hours left between the days, listed, so the index finds exactly them; the dirty
    -- (monitor, hour) pairs among them are left out here and read from raw below.
    SELECT coalesce(array_agg(g.h), '{}') INTO hours
    FROM generate_series(lo, hi - interval '1 hour', interval '1 hour') AS g(h)
    WHERE NOT time_bucket(interval '1 day', g.h) = ANY (days);
    -- Dynamic, so planned with its bounds: measured faster than a cached generic plan's
    -- run-time chunk exclusion on the hypertable (0.33 against 0.6 ms).
    RETURN QUERY EXECUTE
        'SELECT r.monitor_id, r.region_id, r.slots::bigint, r.up_slots::bigint, r.down_slots::bigint, '
        'r.missed_slots::bigint, r.checks::bigint, r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist '
        'FROM rollup_1h r WHERE r.monitor_id = ANY ($1) AND r.region_id BETWEEN $2 AND $3 '
        'AND r.bucket = ANY ($4) AND r.bucket >= $5 AND r.bucket < $6 '
        'AND NOT EXISTS (SELECT 1 FROM unnest($7::integer[], $8::timestamptz[]) AS d(m, h) '
        '                WHERE d.m = r.monitor_id AND d.h = r.bucket)'
        USING monitor_ids, CASE WHEN per_region THEN 1 ELSE 0 END, CASE WHEN per_region THEN 32767 ELSE 0 END,
              hours, lo, hi, dirty_m, dirty_h;

    -- Raw rows: one plain range scan per piece, all in one statement planned with the
    -- bounds as constants (chunk exclusion at plan time). The window's ends are read from
    -- the raw horizon on; a dirty hour is read for its dirty monitors only.
    FOR rng IN
        SELECT greatest(v.s, raw_from) AS s, v.e, NULL::integer[] AS ids
        FROM (VALUES (from_ts, lo), (hi, to_ts)) AS v(s, e) WHERE greatest(v.s, raw_from) < v.e
        UNION ALL
        SELECT x.h, x.h + interval '1 hour', array_agg(x.m)
        FROM unnest(dirty_m, dirty_h) AS x(m, h) GROUP BY x.h
    LOOP
        scans := scans || format('SELECT c.time, c.monitor_id, c.region_id, c.up, c.error_kind, c.latency_us '
                                 'FROM check_results c WHERE c.monitor_id = ANY (%s) '
                                 'AND c.time >= %L::timestamptz AND c.time < %L::timestamptz',
                                 coalesce(quote_literal(rng.ids) || '::integer[]', '$1'), rng.s, rng.e);
    END LOOP;
    IF cardinality(scans) > 0 THEN
        EXECUTE 'SELECT array_agg(x.time), array_agg(x.monitor_id), array_agg(x.region_id), array_agg(x.up), '
                'array_agg(x.error_kind), array_agg(x.latency_us) FROM (' || array_to_string(scans, ' UNION ALL ') || ') AS x'
            INTO t, m, rg, u, ek, lt USING monitor_ids;
    END IF;
    IF t IS NOT NULL THEN
        RETURN QUERY
        SELECT x.monitor_id, x.region_id, x.slots, x.up_slots, x.down_slots, x.missed_slots,
               x.checks, x.latency_min_us, x.latency_max_us, x.latency_sum_us, x.hist
        FROM vigil_raw_rows_stats(t, m, rg, u, ek, lt, per_region) AS x;
    END IF;
END
$_$;

--
-- Name: vigil_window_region_stats(integer[], timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_window_region_stats(monitor_ids integer[], from_ts timestamp with time zone, to_ts timestamp with time zone) RETURNS TABLE(monitor_id integer, region_id smallint, slots bigint, up_slots bigint, down_slots bigint, missed_slots bigint, checks bigint, latency_min_us integer, latency_max_us integer, latency_sum_us bigint, hist public.vigil_hist)
    LANGUAGE sql STABLE
    AS $$
    SELECT p.monitor_id, p.region_id, sum(p.slots)::bigint, sum(p.up_slots)::bigint,
           sum(p.down_slots)::bigint, sum(p.missed_slots)::bigint, sum(p.checks)::bigint,
           min(p.latency_min_us), max(p.latency_max_us), sum(p.latency_sum_us)::bigint,
           vigil_hist_merge(p.hist)
    FROM vigil_window_parts(monitor_ids, from_ts, to_ts, true) AS p
    GROUP BY p.monitor_id, p.region_id
$$;

--
-- Name: vigil_window_rolled(integer[], timestamp with time zone, timestamp with time zone, integer[], integer[], timestamp with time zone[], timestamp with time zone[], integer[], timestamp with time zone[], timestamp with time zone[], integer[], timestamp with time zone[], timestamp with time zone[], integer[], timestamp with time zone[], timestamp with time zone[], boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_window_rolled(monitor_ids integer[], from_ts timestamp with time zone, to_ts timestamp with time zone, planned_ids integer[], four_week_m integer[], four_week_from timestamp with time zone[], four_week_to timestamp with time zone[], week_m integer[], week_from timestamp with time zone[], week_to timestamp with time zone[], day_m integer[], day_from timestamp with time zone[], day_to timestamp with time zone[], hour_m integer[], hour_from timestamp with time zone[], hour_to timestamp with time zone[], per_region boolean) RETURNS TABLE(hourly_until timestamp with time zone, daily_until timestamp with time zone, weekly_until timestamp with time zone, four_weekly_until timestamp with time zone, raw_from timestamp with time zone, dirty_monitors integer[], dirty_hours timestamp with time zone[], quorum_monitors integer[], quorums smallint[], piece_monitors integer[], piece_regions smallint[], slots bigint[], up_slots bigint[], down_slots bigint[], missed_slots bigint[], checks bigint[], latency_min_us integer[], latency_max_us integer[], latency_sum_us bigint[], hist_bytes integer[], hist bytea)
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
#variable_conflict use_column
DECLARE
    region_lo smallint := CASE WHEN per_region THEN 1 ELSE 0 END;
    region_hi smallint := CASE WHEN per_region THEN 32767 ELSE 0 END;
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT r.monitor_id, r.region_id, sum(r.slots)::bigint AS slots, sum(r.up_slots)::bigint AS up_slots,
               sum(r.down_slots)::bigint AS down_slots, sum(r.missed_slots)::bigint AS missed_slots,
               sum(r.checks)::bigint AS checks, coalesce(min(r.latency_min_us), -1) AS latency_min_us,
               coalesce(max(r.latency_max_us), -1) AS latency_max_us, sum(r.latency_sum_us)::bigint AS latency_sum_us,
               string_agg(substring(array_send(r.hist::integer[]) FROM 21), ''::bytea) AS hist
        FROM (SELECT r.monitor_id, r.region_id, r.slots, r.up_slots, r.down_slots, r.missed_slots, r.checks,
                     r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist
              FROM unnest(four_week_m, four_week_from, four_week_to) AS s(m, a, b)
              CROSS JOIN LATERAL (SELECT r.* FROM rollup_28d r
                                  WHERE r.monitor_id = ANY (CASE WHEN s.m = 0 THEN planned_ids ELSE ARRAY[s.m] END)
                                    AND r.region_id BETWEEN region_lo AND region_hi
                                    AND r.bucket >= s.a AND r.bucket < s.b OFFSET 0) AS r
              UNION ALL
              SELECT r.monitor_id, r.region_id, r.slots, r.up_slots, r.down_slots, r.missed_slots, r.checks,
                     r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist
              FROM unnest(week_m, week_from, week_to) AS s(m, a, b)
              CROSS JOIN LATERAL (SELECT r.* FROM rollup_7d r
                                  WHERE r.monitor_id = ANY (CASE WHEN s.m = 0 THEN planned_ids ELSE ARRAY[s.m] END)
                                    AND r.region_id BETWEEN region_lo AND region_hi
                                    AND r.bucket >= s.a AND r.bucket < s.b OFFSET 0) AS r
              UNION ALL
              SELECT r.monitor_id, r.region_id, r.slots, r.up_slots, r.down_slots, r.missed_slots, r.checks,
                     r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist
              FROM unnest(day_m, day_from, day_to) AS s(m, a, b)
              CROSS JOIN LATERAL (SELECT r.* FROM rollup_1d r
                                  WHERE r.monitor_id = ANY (CASE WHEN s.m = 0 THEN planned_ids ELSE ARRAY[s.m] END)
                                    AND r.region_id BETWEEN region_lo AND region_hi
                                    AND r.bucket >= s.a AND r.bucket < s.b OFFSET 0) AS r
              UNION ALL
              SELECT r.monitor_id, r.region_id, r.slots, r.up_slots, r.down_slots, r.missed_slots, r.checks,
                     r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist
              FROM unnest(hour_m, hour_from, hour_to) AS s(m, a, b)
              CROSS JOIN LATERAL (SELECT r.* FROM rollup_1h r
                                  WHERE r.monitor_id = ANY (CASE WHEN s.m = 0 THEN planned_ids ELSE ARRAY[s.m] END)
                                    AND r.region_id BETWEEN region_lo AND region_hi
                                    AND r.bucket >= s.a AND r.bucket < s.b OFFSET 0) AS r
) AS r
        GROUP BY r.monitor_id, r.region_id)
    SELECT (SELECT s.rolled_until FROM rollup_state s WHERE s.width = interval '1 hour'),
           (SELECT s.rolled_until FROM rollup_state s WHERE s.width = interval '1 day'),
           (SELECT s.rolled_until FROM rollup_state s WHERE s.width = interval '7 days'),
           (SELECT s.rolled_until FROM rollup_state s WHERE s.width = interval '28 days'),
           (SELECT nullif(h.kept_from, '-infinity') FROM retention_horizons h WHERE h.source = 'raw'),
           d.monitor_ids, d.buckets, q.ids, q.quorums,
           x.monitor_ids, x.region_ids, x.slots, x.up_slots, x.down_slots, x.missed_slots, x.checks,
           x.latency_min_us, x.latency_max_us, x.latency_sum_us, x.hist_bytes, x.hist
    FROM (SELECT coalesce(array_agg(d.monitor_id ORDER BY d.monitor_id, d.bucket), '{}') AS monitor_ids,
                 coalesce(array_agg(d.bucket ORDER BY d.monitor_id, d.bucket), '{}') AS buckets
          FROM rollup_dirty d
          WHERE d.monitor_id = ANY (monitor_ids) AND d.bucket >= from_ts AND d.bucket < to_ts) AS d,
         (SELECT coalesce(array_agg(m.id ORDER BY m.id), '{}') AS ids,
                 coalesce(array_agg(m.region_quorum ORDER BY m.id), '{}') AS quorums
          FROM monitors m WHERE m.id = ANY (monitor_ids)) AS q,
         (SELECT array_agg(p.monitor_id) AS monitor_ids, array_agg(p.region_id) AS region_ids,
                 array_agg(p.slots) AS slots, array_agg(p.up_slots) AS up_slots,
                 array_agg(p.down_slots) AS down_slots, array_agg(p.missed_slots) AS missed_slots,
                 array_agg(p.checks) AS checks, array_agg(p.latency_min_us) AS latency_min_us,
                 array_agg(p.latency_max_us) AS latency_max_us, array_agg(p.latency_sum_us) AS latency_sum_us,
                 array_agg(coalesce(length(p.hist), 0)) AS hist_bytes, string_agg(p.hist, ''::bytea) AS hist
          FROM p) AS x;
END
$$;

--
-- Name: vigil_window_stats(integer[], timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_window_stats(monitor_ids integer[], from_ts timestamp with time zone, to_ts timestamp with time zone) RETURNS TABLE(monitor_id integer, slots bigint, up_slots bigint, down_slots bigint, missed_slots bigint, checks bigint, latency_min_us integer, latency_max_us integer, latency_sum_us bigint, hist public.vigil_hist)
    LANGUAGE sql STABLE
    AS $$
    SELECT p.monitor_id, sum(p.slots)::bigint, sum(p.up_slots)::bigint, sum(p.down_slots)::bigint,
           sum(p.missed_slots)::bigint, sum(p.checks)::bigint, min(p.latency_min_us),
           max(p.latency_max_us), sum(p.latency_sum_us)::bigint, vigil_hist_merge(p.hist)
    FROM vigil_window_parts(monitor_ids, from_ts, to_ts, false) AS p
    GROUP BY p.monitor_id
$$;

--
-- Name: vigil_hist_merge(public.vigil_hist); Type: AGGREGATE; Schema: public; Owner: -
--

CREATE AGGREGATE public.vigil_hist_merge(public.vigil_hist) (
    SFUNC = public.vigil_hist_merge_step,
    STYPE = integer[],
    INITCOND = '{}',
    FINALFUNC = public.vigil_hist_compact,
    COMBINEFUNC = public.vigil_hist_merge_step,
    PARALLEL = safe
);

--
-- Name: accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.accounts (
    id integer NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    disabled boolean DEFAULT false NOT NULL,
    CONSTRAINT accounts_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200)))
);

--
-- Name: accounts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.accounts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.accounts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: alert_rules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alert_rules (
    id integer NOT NULL,
    account_id integer NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    monitor_id integer,
    tag text,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    severity text DEFAULT 'critical'::text NOT NULL,
    channel_ids integer[] DEFAULT '{}'::integer[] NOT NULL,
    renotify_s integer DEFAULT 0 NOT NULL,
    recovery_slots integer DEFAULT 1 NOT NULL,
    pending_s integer DEFAULT 0 NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT alert_rules_check CHECK (((monitor_id IS NULL) OR (tag IS NULL))),
    CONSTRAINT alert_rules_kind_check CHECK ((kind = ANY (ARRAY['down'::text, 'latency'::text, 'uptime'::text, 'tls_expiry'::text, 'heartbeat'::text, 'slo_burn_rate'::text]))),
    CONSTRAINT alert_rules_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT alert_rules_pending_s_check CHECK (((pending_s >= 0) AND (pending_s <= 86400))),
    CONSTRAINT alert_rules_recovery_slots_check CHECK (((recovery_slots >= 1) AND (recovery_slots <= 1000))),
    CONSTRAINT alert_rules_renotify_s_check CHECK (((renotify_s = 0) OR (renotify_s >= 60))),
    CONSTRAINT alert_rules_severity_check CHECK ((severity = ANY (ARRAY['critical'::text, 'warning'::text, 'info'::text])))
);

--
-- Name: monitors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.monitors (
    id integer NOT NULL,
    account_id integer NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    target text NOT NULL,
    interval_s integer NOT NULL,
    timeout_ms integer NOT NULL,
    regions text[] DEFAULT '{local}'::text[] NOT NULL,
    expectations jsonb DEFAULT '{}'::jsonb NOT NULL,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    slo_target numeric(6,3) DEFAULT 99.9 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    region_quorum smallint DEFAULT 1 NOT NULL,
    schedule_changed_at timestamp with time zone,
    request_id text,
    CONSTRAINT monitors_check CHECK ((timeout_ms <= (interval_s * 1000))),
    CONSTRAINT monitors_interval_s_check CHECK (((interval_s >= 10) AND (interval_s <= 86400))),
    CONSTRAINT monitors_quorum_le_regions CHECK ((region_quorum <= cardinality(regions))),
    CONSTRAINT monitors_region_quorum_check CHECK ((region_quorum >= 1)),
    CONSTRAINT monitors_slo_target_check CHECK (((slo_target > (0)::numeric) AND (slo_target < (100)::numeric))),
    CONSTRAINT monitors_timeout_ms_check CHECK (((timeout_ms >= 100) AND (timeout_ms <= 120000)))
);

--
-- Name: alert_rule_targets; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.alert_rule_targets AS
 SELECT r.id AS rule_id,
    r.kind,
    m.id AS monitor_id,
    m.account_id
   FROM (public.alert_rules r
     JOIN public.monitors m ON (((m.id = r.monitor_id) AND (m.account_id = r.account_id))))
  WHERE (r.enabled AND m.enabled)
UNION ALL
 SELECT r.id AS rule_id,
    r.kind,
    m.id AS monitor_id,
    m.account_id
   FROM (public.alert_rules r
     JOIN public.monitors m ON (((m.account_id = r.account_id) AND (r.tag = ANY (m.tags)))))
  WHERE (r.enabled AND m.enabled AND (r.monitor_id IS NULL) AND (r.tag IS NOT NULL))
UNION ALL
 SELECT r.id AS rule_id,
    r.kind,
    m.id AS monitor_id,
    m.account_id
   FROM (public.alert_rules r
     JOIN public.monitors m ON ((m.account_id = r.account_id)))
  WHERE (r.enabled AND m.enabled AND (r.monitor_id IS NULL) AND (r.tag IS NULL));

--
-- Name: alert_rules_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.alert_rules ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.alert_rules_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_keys (
    id integer NOT NULL,
    account_id integer NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    prefix text NOT NULL,
    secret_hash bytea NOT NULL,
    scope text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    expires_at timestamp with time zone,
    requests bigint DEFAULT 0 NOT NULL,
    rate_limit_per_minute integer,
    CONSTRAINT api_keys_rate_limit_per_minute_check CHECK (((rate_limit_per_minute >= 1) AND (rate_limit_per_minute <= 1000000))),
    CONSTRAINT api_keys_scope_check CHECK ((scope = ANY (ARRAY['read'::text, 'write'::text, 'admin'::text])))
);

--
-- Name: api_keys_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.api_keys ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.api_keys_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: channels; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.channels (
    id integer NOT NULL,
    account_id integer NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    secret_ciphertext bytea,
    enabled boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT channels_kind_check CHECK ((kind = ANY (ARRAY['webhook'::text, 'slack'::text, 'discord'::text, 'email'::text])))
);

--
-- Name: channels_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.channels ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.channels_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: check_results; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.check_results (
    "time" timestamp with time zone NOT NULL,
    monitor_id integer NOT NULL,
    latency_us integer DEFAULT 0 NOT NULL,
    connect_us integer DEFAULT 0 NOT NULL,
    ttfb_us integer DEFAULT 0 NOT NULL,
    lateness_ms integer DEFAULT 0 NOT NULL,
    region_id smallint NOT NULL,
    error_kind smallint DEFAULT 0 NOT NULL,
    status_code smallint DEFAULT 0 NOT NULL,
    attempts smallint DEFAULT 1 NOT NULL,
    up boolean NOT NULL
);

--
-- Name: heartbeat_pings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.heartbeat_pings (
    monitor_id integer NOT NULL,
    last_ping_at timestamp with time zone NOT NULL,
    pings bigint DEFAULT 1 NOT NULL
);

--
-- Name: heartbeat_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.heartbeat_tokens (
    monitor_id integer NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: incidents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incidents (
    id bigint NOT NULL,
    account_id integer NOT NULL,
    rule_id integer NOT NULL,
    monitor_id integer NOT NULL,
    state text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    fired_at timestamp with time zone,
    resolved_at timestamp with time zone,
    last_evaluated_at timestamp with time zone NOT NULL,
    last_notified_at timestamp with time zone,
    reminders integer DEFAULT 0 NOT NULL,
    good_streak integer DEFAULT 0 NOT NULL,
    summary text DEFAULT ''::text NOT NULL,
    reason jsonb DEFAULT '{}'::jsonb NOT NULL,
    correlation_id text,
    trace_id text,
    CONSTRAINT incidents_check CHECK (((state = 'resolved'::text) = (resolved_at IS NOT NULL))),
    CONSTRAINT incidents_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'firing'::text, 'resolved'::text])))
);

--
-- Name: incidents_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.incidents ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.incidents_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: maintenance_windows_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.maintenance_windows ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.maintenance_windows_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: monitor_badges; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.monitor_badges (
    monitor_id integer NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: monitors_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.monitors ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.monitors_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: notification_attempts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_attempts (
    id bigint NOT NULL,
    notification_id bigint NOT NULL,
    attempted_at timestamp with time zone DEFAULT now() NOT NULL,
    ok boolean NOT NULL,
    status_code integer,
    error text,
    duration_ms integer DEFAULT 0 NOT NULL
);

--
-- Name: notification_attempts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.notification_attempts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.notification_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: notifications; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notifications (
    id bigint NOT NULL,
    account_id integer NOT NULL,
    channel_id integer NOT NULL,
    incident_id bigint,
    event text NOT NULL,
    dedupe_key text NOT NULL,
    payload jsonb NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    correlation_id text,
    traceparent text,
    CONSTRAINT notifications_event_check CHECK ((event = ANY (ARRAY['firing'::text, 'resolved'::text, 'reminder'::text, 'test'::text, 'report'::text]))),
    CONSTRAINT notifications_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivering'::text, 'sent'::text, 'dead'::text])))
);

--
-- Name: notifications_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.notifications ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.notifications_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: packed_chunks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.packed_chunks (
    chunk text NOT NULL,
    packed_at timestamp with time zone DEFAULT now() NOT NULL,
    index_bytes_before bigint NOT NULL,
    index_bytes_after bigint NOT NULL
);

--
-- Name: refused_late_rows; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.refused_late_rows (
    monitor_id integer NOT NULL,
    bucket timestamp with time zone NOT NULL,
    rows bigint NOT NULL,
    last_refused_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: regions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.regions (
    id smallint NOT NULL,
    name text NOT NULL,
    CONSTRAINT regions_name_check CHECK ((name ~ '^[a-z0-9][a-z0-9-]{0,31}$'::text))
);

--
-- Name: regions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.regions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.regions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: retention_horizons; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.retention_horizons (
    source text NOT NULL,
    kept_from timestamp with time zone NOT NULL,
    CONSTRAINT retention_horizons_source_check CHECK ((source = ANY (ARRAY['raw'::text, '1 hour'::text, '1 day'::text])))
);

--
-- Name: retention_kept; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.retention_kept AS
 SELECT max(retention_horizons.kept_from) FILTER (WHERE (retention_horizons.source = 'raw'::text)) AS raw_from,
    max(retention_horizons.kept_from) FILTER (WHERE (retention_horizons.source = '1 hour'::text)) AS hourly_from,
    max(retention_horizons.kept_from) FILTER (WHERE (retention_horizons.source = '1 day'::text)) AS daily_from
   FROM public.retention_horizons;

--
-- Name: rollup_1d; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rollup_1d (
    bucket timestamp with time zone NOT NULL,
    monitor_id integer NOT NULL,
    region_id smallint NOT NULL,
    slots integer NOT NULL,
    up_slots integer NOT NULL,
    down_slots integer NOT NULL,
    missed_slots integer NOT NULL,
    checks integer NOT NULL,
    latency_min_us integer,
    latency_max_us integer,
    latency_sum_us bigint NOT NULL,
    p50_us real,
    p90_us real,
    p95_us real,
    p99_us real,
    hist public.vigil_hist NOT NULL
);

--
-- Name: rollup_1h; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rollup_1h (
    bucket timestamp with time zone NOT NULL,
    monitor_id integer NOT NULL,
    region_id smallint NOT NULL,
    slots integer NOT NULL,
    up_slots integer NOT NULL,
    down_slots integer NOT NULL,
    missed_slots integer NOT NULL,
    checks integer NOT NULL,
    latency_min_us integer,
    latency_max_us integer,
    latency_sum_us bigint NOT NULL,
    p50_us real,
    p90_us real,
    p95_us real,
    p99_us real,
    hist public.vigil_hist NOT NULL
);

--
-- Name: rollup_28d; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rollup_28d (
    bucket timestamp with time zone NOT NULL,
    monitor_id integer NOT NULL,
    region_id smallint NOT NULL,
    slots integer NOT NULL,
    up_slots integer NOT NULL,
    down_slots integer NOT NULL,
    missed_slots integer NOT NULL,
    checks integer NOT NULL,
    latency_min_us integer,
    latency_max_us integer,
    latency_sum_us bigint NOT NULL,
    p50_us real,
    p90_us real,
    p95_us real,
    p99_us real,
    hist public.vigil_hist NOT NULL
);

--
-- Name: rollup_7d; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rollup_7d (
    bucket timestamp with time zone NOT NULL,
    monitor_id integer NOT NULL,
    region_id smallint NOT NULL,
    slots integer NOT NULL,
    up_slots integer NOT NULL,
    down_slots integer NOT NULL,
    missed_slots integer NOT NULL,
    checks integer NOT NULL,
    latency_min_us integer,
    latency_max_us integer,
    latency_sum_us bigint NOT NULL,
    p50_us real,
    p90_us real,
    p95_us real,
    p99_us real,
    hist public.vigil_hist NOT NULL
);

--
-- Name: rollup_dirty; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rollup_dirty (
    monitor_id integer NOT NULL,
    bucket timestamp with time zone NOT NULL,
    marked_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: rollup_state; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rollup_state (
    width interval NOT NULL,
    rolled_until timestamp with time zone NOT NULL
);

--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    id bigint NOT NULL,
    user_id integer NOT NULL,
    refresh_hash bytea NOT NULL,
    previous_hash bytea,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    refreshed_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone
);

--
-- Name: sessions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.sessions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.sessions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: slot_region_agreement; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.slot_region_agreement AS
 SELECT s.monitor_id,
    s."time",
    cardinality(m.regions) AS regions_expected,
    (((s.n_up + s.n_down) + s.n_missed))::integer AS regions_reporting,
    (s.n_up)::integer AS regions_up,
    (s.n_down)::integer AS regions_down,
    (s.n_missed)::integer AS regions_missed,
    m.region_quorum,
    (public.vigil_slot_status(s.n_down, (s.n_up + s.n_down), (m.region_quorum)::integer) = 'down'::text) AS down,
    public.vigil_slot_status(s.n_down, (s.n_up + s.n_down), (m.region_quorum)::integer) AS status
   FROM (( SELECT r.monitor_id,
            r."time",
            count(*) FILTER (WHERE r.up) AS n_up,
            count(*) FILTER (WHERE public.vigil_result_down(r.up, r.error_kind)) AS n_down,
            count(*) FILTER (WHERE (r.error_kind = public.vigil_missed_kind())) AS n_missed
           FROM public.check_results r
          GROUP BY r.monitor_id, r."time") s
     JOIN public.monitors m ON ((m.id = s.monitor_id)));

--
-- Name: status_incident_updates; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.status_incident_updates (
    id bigint NOT NULL,
    incident_id bigint NOT NULL,
    status text NOT NULL,
    message text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT status_incident_updates_message_check CHECK (((length(message) >= 1) AND (length(message) <= 5000))),
    CONSTRAINT status_incident_updates_status_check CHECK ((status = ANY (ARRAY['investigating'::text, 'identified'::text, 'monitoring'::text, 'resolved'::text])))
);

--
-- Name: status_incident_updates_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.status_incident_updates ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.status_incident_updates_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: status_incidents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.status_incidents (
    id bigint NOT NULL,
    account_id integer NOT NULL,
    title text NOT NULL,
    impact text DEFAULT 'minor'::text NOT NULL,
    status text NOT NULL,
    monitor_ids integer[] DEFAULT '{}'::integer[] NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    resolved_at timestamp with time zone,
    CONSTRAINT status_incidents_check CHECK (((status = 'resolved'::text) = (resolved_at IS NOT NULL))),
    CONSTRAINT status_incidents_impact_check CHECK ((impact = ANY (ARRAY['none'::text, 'minor'::text, 'major'::text, 'critical'::text]))),
    CONSTRAINT status_incidents_status_check CHECK ((status = ANY (ARRAY['investigating'::text, 'identified'::text, 'monitoring'::text, 'resolved'::text]))),
    CONSTRAINT status_incidents_title_check CHECK (((length(title) >= 1) AND (length(title) <= 200)))
);

--
-- Name: status_incidents_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.status_incidents ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.status_incidents_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: status_page_monitors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.status_page_monitors (
    section_id integer NOT NULL,
    page_id integer NOT NULL,
    monitor_id integer NOT NULL,
    "position" smallint NOT NULL,
    display_name text NOT NULL,
    key text NOT NULL,
    show_target boolean DEFAULT false NOT NULL,
    CONSTRAINT status_page_monitors_display_name_check CHECK (((length(display_name) >= 1) AND (length(display_name) <= 200))),
    CONSTRAINT status_page_monitors_key_check CHECK ((key ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'::text))
);

--
-- Name: status_page_sections; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.status_page_sections (
    id integer NOT NULL,
    page_id integer NOT NULL,
    name text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT status_page_sections_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200)))
);

--
-- Name: status_page_sections_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.status_page_sections ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.status_page_sections_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: status_pages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.status_pages (
    id integer NOT NULL,
    account_id integer NOT NULL,
    slug text NOT NULL,
    title text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    visibility text DEFAULT 'public'::text NOT NULL,
    link_token_hash bytea,
    custom_domain text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT status_pages_check CHECK (((visibility = 'public'::text) OR (link_token_hash IS NOT NULL))),
    CONSTRAINT status_pages_custom_domain_check CHECK ((custom_domain ~ '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$'::text)),
    CONSTRAINT status_pages_description_check CHECK ((length(description) <= 2000)),
    CONSTRAINT status_pages_slug_check CHECK ((slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'::text)),
    CONSTRAINT status_pages_title_check CHECK (((length(title) >= 1) AND (length(title) <= 200))),
    CONSTRAINT status_pages_visibility_check CHECK ((visibility = ANY (ARRAY['public'::text, 'link'::text])))
);

--
-- Name: status_pages_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.status_pages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.status_pages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: sweep_watermarks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sweep_watermarks (
    name text NOT NULL,
    swept_to timestamp with time zone NOT NULL
);

--
-- Name: tls_certificates; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tls_certificates (
    monitor_id integer NOT NULL,
    region_id smallint NOT NULL,
    not_after timestamp with time zone NOT NULL,
    subject text DEFAULT ''::text NOT NULL,
    issuer text DEFAULT ''::text NOT NULL,
    checked_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id integer NOT NULL,
    account_id integer NOT NULL,
    email text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    failed_logins integer DEFAULT 0 NOT NULL,
    locked_until timestamp with time zone,
    disabled boolean DEFAULT false NOT NULL,
    lockouts integer DEFAULT 0 NOT NULL,
    CONSTRAINT users_email_check CHECK (((length(email) >= 3) AND (length(email) <= 254))),
    CONSTRAINT users_role_check CHECK ((role = ANY (ARRAY['read'::text, 'write'::text, 'admin'::text])))
);

--
-- Name: users_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: accounts accounts_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_name_key UNIQUE (name);

--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);

--
-- Name: alert_rules alert_rules_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_rules
    ADD CONSTRAINT alert_rules_pkey PRIMARY KEY (id);

--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

--
-- Name: api_keys api_keys_prefix_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_prefix_key UNIQUE (prefix);

--
-- Name: channels channels_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channels
    ADD CONSTRAINT channels_pkey PRIMARY KEY (id);

--
-- Name: heartbeat_pings heartbeat_pings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.heartbeat_pings
    ADD CONSTRAINT heartbeat_pings_pkey PRIMARY KEY (monitor_id);

--
-- Name: heartbeat_tokens heartbeat_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.heartbeat_tokens
    ADD CONSTRAINT heartbeat_tokens_pkey PRIMARY KEY (monitor_id);

--
-- Name: heartbeat_tokens heartbeat_tokens_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.heartbeat_tokens
    ADD CONSTRAINT heartbeat_tokens_token_hash_key UNIQUE (token_hash);

--
-- Name: incidents incidents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_pkey PRIMARY KEY (id);

--
-- Name: maintenance_windows maintenance_windows_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.maintenance_windows
    ADD CONSTRAINT maintenance_windows_pkey PRIMARY KEY (id);

--
-- Name: monitor_badges monitor_badges_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.monitor_badges
    ADD CONSTRAINT monitor_badges_pkey PRIMARY KEY (monitor_id);

--
-- Name: monitor_badges monitor_badges_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.monitor_badges
    ADD CONSTRAINT monitor_badges_token_hash_key UNIQUE (token_hash);

--
-- Name: monitors monitors_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.monitors
    ADD CONSTRAINT monitors_pkey PRIMARY KEY (id);

--
-- Name: notification_attempts notification_attempts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_attempts
    ADD CONSTRAINT notification_attempts_pkey PRIMARY KEY (id);

--
-- Name: notifications notifications_dedupe_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_dedupe_key_key UNIQUE (dedupe_key);

--
-- Name: notifications notifications_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (id);

--
-- Name: packed_chunks packed_chunks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.packed_chunks
    ADD CONSTRAINT packed_chunks_pkey PRIMARY KEY (chunk);

--
-- Name: refused_late_rows refused_late_rows_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refused_late_rows
    ADD CONSTRAINT refused_late_rows_pkey PRIMARY KEY (monitor_id, bucket);

--
-- Name: regions regions_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.regions
    ADD CONSTRAINT regions_name_key UNIQUE (name);

--
-- Name: regions regions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.regions
    ADD CONSTRAINT regions_pkey PRIMARY KEY (id);

--
-- Name: retention_horizons retention_horizons_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.retention_horizons
    ADD CONSTRAINT retention_horizons_pkey PRIMARY KEY (source);

--
-- Name: rollup_1d rollup_1d_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rollup_1d
    ADD CONSTRAINT rollup_1d_pkey PRIMARY KEY (monitor_id, region_id, bucket);

--
-- Name: rollup_1h rollup_1h_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rollup_1h
    ADD CONSTRAINT rollup_1h_pkey PRIMARY KEY (monitor_id, region_id, bucket);

--
-- Name: rollup_28d rollup_28d_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rollup_28d
    ADD CONSTRAINT rollup_28d_pkey PRIMARY KEY (monitor_id, region_id, bucket);

--
-- Name: rollup_7d rollup_7d_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rollup_7d
    ADD CONSTRAINT rollup_7d_pkey PRIMARY KEY (monitor_id, region_id, bucket);

--
-- Name: rollup_dirty rollup_dirty_pkey1; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rollup_dirty
    ADD CONSTRAINT rollup_dirty_pkey1 PRIMARY KEY (monitor_id, bucket);

--
-- Name: rollup_state rollup_state_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rollup_state
    ADD CONSTRAINT rollup_state_pkey PRIMARY KEY (width);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (name);

--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);

--
-- Name: sessions sessions_refresh_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_refresh_hash_key UNIQUE (refresh_hash);

--
-- Name: status_incident_updates status_incident_updates_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_incident_updates
    ADD CONSTRAINT status_incident_updates_pkey PRIMARY KEY (id);

--
-- Name: status_incidents status_incidents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_incidents
    ADD CONSTRAINT status_incidents_pkey PRIMARY KEY (id);

--
-- Name: status_page_monitors status_page_monitors_page_id_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_page_monitors
    ADD CONSTRAINT status_page_monitors_page_id_key_key UNIQUE (page_id, key);

--
-- Name: status_page_monitors status_page_monitors_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_page_monitors
    ADD CONSTRAINT status_page_monitors_pkey PRIMARY KEY (section_id, "position");

--
-- Name: status_page_sections status_page_sections_page_id_position_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_page_sections
    ADD CONSTRAINT status_page_sections_page_id_position_key UNIQUE (page_id, "position");

--
-- Name: status_page_sections status_page_sections_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_page_sections
    ADD CONSTRAINT status_page_sections_pkey PRIMARY KEY (id);

--
-- Name: status_pages status_pages_custom_domain_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_pages
    ADD CONSTRAINT status_pages_custom_domain_key UNIQUE (custom_domain);

--
-- Name: status_pages status_pages_link_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_pages
    ADD CONSTRAINT status_pages_link_token_hash_key UNIQUE (link_token_hash);

--
-- Name: status_pages status_pages_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_pages
    ADD CONSTRAINT status_pages_pkey PRIMARY KEY (id);

--
-- Name: status_pages status_pages_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_pages
    ADD CONSTRAINT status_pages_slug_key UNIQUE (slug);

--
-- Name: sweep_watermarks sweep_watermarks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sweep_watermarks
    ADD CONSTRAINT sweep_watermarks_pkey PRIMARY KEY (name);

--
-- Name: tls_certificates tls_certificates_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tls_certificates
    ADD CONSTRAINT tls_certificates_pkey PRIMARY KEY (monitor_id, region_id);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

--
-- Name: alert_rules_account_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX alert_rules_account_idx ON public.alert_rules USING btree (account_id, id);

--
-- Name: alert_rules_kind_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX alert_rules_kind_idx ON public.alert_rules USING btree (kind) WHERE enabled;

--
-- Name: alert_rules_monitor_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX alert_rules_monitor_idx ON public.alert_rules USING btree (monitor_id);

--
-- Name: api_keys_account_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX api_keys_account_idx ON public.api_keys USING btree (account_id, id) WHERE (revoked_at IS NULL);

--
-- Name: channels_account_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX channels_account_idx ON public.channels USING btree (account_id, id);

--
-- Name: check_results_slot_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX check_results_slot_key ON public.check_results USING btree (monitor_id, region_id, "time");

--
-- Name: incidents_account_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incidents_account_idx ON public.incidents USING btree (account_id, id DESC);

--
-- Name: incidents_episode_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incidents_episode_idx ON public.incidents USING btree (rule_id, monitor_id, resolved_at);

--
-- Name: incidents_open_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX incidents_open_key ON public.incidents USING btree (rule_id, monitor_id) WHERE (state <> 'resolved'::text);

--
-- Name: maintenance_windows_account_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX maintenance_windows_account_idx ON public.maintenance_windows USING btree (account_id, monitor_id);

--
-- Name: monitors_account_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX monitors_account_idx ON public.monitors USING btree (account_id, id);

--
-- Name: monitors_enabled_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX monitors_enabled_idx ON public.monitors USING btree (id) WHERE enabled;

--
-- Name: notification_attempts_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notification_attempts_idx ON public.notification_attempts USING btree (notification_id, attempted_at);

--
-- Name: notifications_account_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_account_idx ON public.notifications USING btree (account_id, id DESC);

--
-- Name: notifications_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_due_idx ON public.notifications USING btree (next_attempt_at) WHERE (status = 'pending'::text);

--
-- Name: notifications_incident_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_incident_idx ON public.notifications USING btree (incident_id);

--
-- Name: notifications_lease_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_lease_idx ON public.notifications USING btree (next_attempt_at) WHERE (status = 'delivering'::text);

--
-- Name: sessions_previous_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_previous_idx ON public.sessions USING btree (previous_hash) WHERE (previous_hash IS NOT NULL);

--
-- Name: sessions_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_user_idx ON public.sessions USING btree (user_id);

--
-- Name: status_incident_updates_incident_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX status_incident_updates_incident_idx ON public.status_incident_updates USING btree (incident_id, id);

--
-- Name: status_incidents_account_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX status_incidents_account_idx ON public.status_incidents USING btree (account_id, id DESC);

--
-- Name: status_page_monitors_monitor_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX status_page_monitors_monitor_idx ON public.status_page_monitors USING btree (monitor_id);

--
-- Name: status_pages_account_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX status_pages_account_idx ON public.status_pages USING btree (account_id, id);

--
-- Name: users_account_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX users_account_idx ON public.users USING btree (account_id);

--
-- Name: users_email_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX users_email_key ON public.users USING btree (lower(email));

--
-- Name: check_results check_results_late_rows; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER check_results_late_rows AFTER INSERT ON public.check_results FOR EACH ROW WHEN ((new."time" < (statement_timestamp() - '00:02:00'::interval))) EXECUTE FUNCTION public.vigil_mark_late_row();

--
-- Name: check_results check_results_late_updates; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER check_results_late_updates AFTER UPDATE ON public.check_results FOR EACH ROW WHEN ((new."time" < (statement_timestamp() - '00:02:00'::interval))) EXECUTE FUNCTION public.vigil_mark_late_row();

--
-- Name: check_results check_results_past_horizon; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER check_results_past_horizon BEFORE INSERT ON public.check_results FOR EACH ROW WHEN ((new."time" < (statement_timestamp() - '00:02:00'::interval))) EXECUTE FUNCTION public.vigil_refuse_past_horizon();

--
-- Name: monitors monitors_schedule_changed; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER monitors_schedule_changed BEFORE UPDATE ON public.monitors FOR EACH ROW WHEN (((new.interval_s IS DISTINCT FROM old.interval_s) OR (new.regions IS DISTINCT FROM old.regions) OR (new.enabled IS DISTINCT FROM old.enabled))) EXECUTE FUNCTION public.vigil_monitor_schedule_changed();

--
-- Name: check_results ts_insert_blocker; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ts_insert_blocker BEFORE INSERT ON public.check_results FOR EACH ROW EXECUTE FUNCTION _timescaledb_functions.insert_blocker();

--
-- Name: rollup_1h ts_insert_blocker; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ts_insert_blocker BEFORE INSERT ON public.rollup_1h FOR EACH ROW EXECUTE FUNCTION _timescaledb_functions.insert_blocker();

--
-- Name: alert_rules alert_rules_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_rules
    ADD CONSTRAINT alert_rules_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

--
-- Name: alert_rules alert_rules_monitor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_rules
    ADD CONSTRAINT alert_rules_monitor_id_fkey FOREIGN KEY (monitor_id) REFERENCES public.monitors(id) ON DELETE CASCADE;

--
-- Name: api_keys api_keys_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

--
-- Name: channels channels_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channels
    ADD CONSTRAINT channels_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

--
-- Name: heartbeat_pings heartbeat_pings_monitor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.heartbeat_pings
    ADD CONSTRAINT heartbeat_pings_monitor_id_fkey FOREIGN KEY (monitor_id) REFERENCES public.monitors(id) ON DELETE CASCADE;

--
-- Name: heartbeat_tokens heartbeat_tokens_monitor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.heartbeat_tokens
    ADD CONSTRAINT heartbeat_tokens_monitor_id_fkey FOREIGN KEY (monitor_id) REFERENCES public.monitors(id) ON DELETE CASCADE;

--
-- Name: incidents incidents_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

--
-- Name: incidents incidents_monitor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_monitor_id_fkey FOREIGN KEY (monitor_id) REFERENCES public.monitors(id) ON DELETE CASCADE;

--
-- Name: incidents incidents_rule_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_rule_id_fkey FOREIGN KEY (rule_id) REFERENCES public.alert_rules(id) ON DELETE CASCADE;

--
-- Name: maintenance_windows maintenance_windows_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.maintenance_windows
    ADD CONSTRAINT maintenance_windows_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

--
-- Name: maintenance_windows maintenance_windows_monitor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.maintenance_windows
    ADD CONSTRAINT maintenance_windows_monitor_id_fkey FOREIGN KEY (monitor_id) REFERENCES public.monitors(id) ON DELETE CASCADE;

--
-- Name: monitor_badges monitor_badges_monitor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.monitor_badges
    ADD CONSTRAINT monitor_badges_monitor_id_fkey FOREIGN KEY (monitor_id) REFERENCES public.monitors(id) ON DELETE CASCADE;

--
-- Name: monitors monitors_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.monitors
    ADD CONSTRAINT monitors_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

--
-- Name: notification_attempts notification_attempts_notification_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_attempts
    ADD CONSTRAINT notification_attempts_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES public.notifications(id) ON DELETE CASCADE;

--
-- Name: notifications notifications_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

--
-- Name: notifications notifications_channel_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES public.channels(id) ON DELETE CASCADE;

--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: status_incident_updates status_incident_updates_incident_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_incident_updates
    ADD CONSTRAINT status_incident_updates_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.status_incidents(id) ON DELETE CASCADE;

--
-- Name: status_incidents status_incidents_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_incidents
    ADD CONSTRAINT status_incidents_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

--
-- Name: status_page_monitors status_page_monitors_monitor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_page_monitors
    ADD CONSTRAINT status_page_monitors_monitor_id_fkey FOREIGN KEY (monitor_id) REFERENCES public.monitors(id) ON DELETE CASCADE;

--
-- Name: status_page_monitors status_page_monitors_page_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_page_monitors
    ADD CONSTRAINT status_page_monitors_page_id_fkey FOREIGN KEY (page_id) REFERENCES public.status_pages(id) ON DELETE CASCADE;

--
-- Name: status_page_monitors status_page_monitors_section_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_page_monitors
    ADD CONSTRAINT status_page_monitors_section_id_fkey FOREIGN KEY (section_id) REFERENCES public.status_page_sections(id) ON DELETE CASCADE;

--
-- Name: status_page_sections status_page_sections_page_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_page_sections
    ADD CONSTRAINT status_page_sections_page_id_fkey FOREIGN KEY (page_id) REFERENCES public.status_pages(id) ON DELETE CASCADE;

--
-- Name: status_pages status_pages_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_pages
    ADD CONSTRAINT status_pages_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

--
-- Name: tls_certificates tls_certificates_monitor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tls_certificates
    ADD CONSTRAINT tls_certificates_monitor_id_fkey FOREIGN KEY (monitor_id) REFERENCES public.monitors(id) ON DELETE CASCADE;

--
-- Name: tls_certificates tls_certificates_region_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tls_certificates
    ADD CONSTRAINT tls_certificates_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);

--
-- Name: users users_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

--
-- PostgreSQL database dump complete
--
