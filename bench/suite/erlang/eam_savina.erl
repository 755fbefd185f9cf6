%% The Savina concurrency and parallelism workloads on Erlang/OTP 25, written as Erlang
%% programmers write them: plain processes and messages, gen_server where the libeam version
%% makes request/reply calls (the dictionary, the logistic map's rate computers). Each mirrors
%% bench/suite/eam/<name>.cpp: the same algorithm, parameters, seeds, item count and checked
%% result, so the suite's ratio compares the same work. eam_suite:run/2 hands these names here
%% and prints the result.
%%
%% run/2 returns {Seconds, Items, Got, Want}; the workload is right when Got =:= Want.
-module(eam_savina).
-behaviour(gen_server).
-export([run/2]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(MASK64, 16#FFFFFFFFFFFFFFFF).
-define(INITIAL_BALANCE, 1000000).

%% The bounded buffer's manager: the buffer, idle consumers and held-back producers' items
%% (queues, with their lengths kept beside them), and the end-of-run bookkeeping.
-record(bb, {capacity, consumers, producers_left, parent,
             buffer = queue:new(), buffer_n = 0, idle = queue:new(), idle_n = 0, pending = queue:new(),
             reports = 0, sum = 0, stopping = false}).
%% An APSP block: its place (bi, bj) in the grid of blocks x blocks, side b of n, its distances d
%% (b rows of b), the step k it is at, and the row and column segments that came, by step.
-record(blk, {bi, bj, b, n, blocks, d, parent, grid, k = 0, rows = #{}, columns = #{}}).

%% -- concurrent dictionary ------------------------------------------------------------------
%% Clients make put/get calls (write_percent writes) on one gen_server holding a map.
run("concurrent-dictionary", Ps) ->
    Clients = p("clients", Ps), Ops = p("ops", Ps), WritePercent = p("write_percent", Ps),
    % What the dictionary must hold at the end: every client's writes, replayed here.
    Written = lists:foldl(fun(W, Keys) -> dict_writes(W + 1, Ops, WritePercent, Keys) end,
                          #{}, lists:seq(0, Clients - 1)),
    {ok, Dict} = gen_server:start(?MODULE, dictionary, []),
    Self = self(),
    Pool = [spawn(fun() ->
                      receive start -> Self ! {done, dict_client(Dict, W + 1, Ops, WritePercent, 0, 0)} end
                  end) || W <- lists:seq(0, Clients - 1)],
    {S, Answered} = timed(fun() -> [C ! start || C <- Pool], collect_sum(Clients, 0) end),
    Size = gen_server:call(Dict, size, infinity),
    Want = Clients * Ops,
    {S, Want, held_check(Answered, Size, map_size(Written), "dictionary holds ~b keys, expected ~b"), Want};

%% -- bounded buffer --------------------------------------------------------------------------
%% Producers and consumers exchange numbered items through a manager holding a bounded buffer;
%% a producer makes its next item only once the manager accepted the last one.
run("bounded-buffer", Ps) ->
    Capacity = p("buffer", Ps), Producers = p("producers", Ps), Consumers = p("consumers", Ps),
    Items = p("items", Ps), Cost = p("cost", Ps),
    Self = self(),
    Manager = spawn(fun() ->
        bb_manager(#bb{capacity = Capacity, consumers = Consumers, producers_left = Producers, parent = Self})
    end),
    AllConsumers = [spawn(fun() -> bb_consumer(Manager, Cost, 0, 0, 0) end) || _ <- lists:seq(1, Consumers)],
    AllProducers = [spawn(fun() -> bb_producer(Manager, I * Items + 1, Items, Cost, 0, 0) end)
                    || I <- lists:seq(0, Producers - 1)],
    N = Producers * Items,
    ok = draws_agree(),
    {S, Sum} = timed(fun() ->
        [Manager ! {ready, C} || C <- AllConsumers],
        [P ! produce_more || P <- AllProducers],
        receive {done, X} -> X end
    end),
    {S, N, Sum, N * (N + 1) div 2};

%% -- dining philosophers -----------------------------------------------------------------------
%% Philosophers ask an arbitrator for both forks, eat, and put them back.
run("dining-philosophers", Ps) ->
    N = p("philosophers", Ps), Rounds = p("rounds", Ps),
    Self = self(),
    Arbitrator = spawn(fun() -> arbitrator(erlang:make_tuple(N, false), N, N, 0, Self) end),
    Table = [spawn(fun() -> philosopher(Id, Rounds, Arbitrator, 0) end) || Id <- lists:seq(0, N - 1)],
    {S, Meals} = timed(fun() -> [Ph ! begin_meal || Ph <- Table], receive {done, X} -> X end end),
    {S, N * Rounds, Meals, N * Rounds};

%% -- sleeping barber ----------------------------------------------------------------------------
%% Customers arrive at a waiting room with `room` chairs; the barber cuts one at a time and sleeps
%% when nobody waits; a customer who finds the room full goes back to the factory, which sends
%% them again.
run("sleeping-barber", Ps) ->
    Customers = p("customers", Ps), Chairs = p("room", Ps), Cost = p("cost", Ps),
    Self = self(),
    Room = spawn(fun() -> receive {hire, Barber} -> room(Chairs, queue:new(), 0, Barber, true) end end),
    Barber = spawn(fun() -> barber(Room, Cost, 0) end),
    Room ! {hire, Barber},
    Factory = spawn(fun() -> factory(Room, Cost, Self) end),
    ok = draws_agree(),
    {S, Served} = timed(fun() -> Factory ! {open_shop, Customers}, receive {done, X} -> X end end),
    {S, Customers, Served, Customers};

%% -- cigarette smokers ---------------------------------------------------------------------------
%% An arbiter hands ingredients to a random smoker each round; the smoker says it started and
%% smokes (busy work) while the arbiter runs the next round.
run("cigarette-smokers", Ps) ->
    Rounds = p("rounds", Ps), Smokers = p("smokers", Ps),
    Self = self(),
    Arbiter = spawn(fun() -> receive {table_set, All} -> arbiter_start(All, Rounds, Self) end end),
    All = [spawn(fun() -> smoker(Arbiter, 0, 0) end) || _ <- lists:seq(1, Smokers)],
    ok = draws_agree(),
    {S, Smoked} = timed(fun() -> Arbiter ! {table_set, list_to_tuple(All)}, receive {done, X} -> X end end),
    {S, Rounds, Smoked, Rounds};

%% -- bank transaction -----------------------------------------------------------------------------
%% A teller orders random transfers; the source account debits and passes the credit on to the
%% destination, which confirms to the teller. Money is conserved: every balance is summed after.
run("bank-transaction", Ps) ->
    Accounts = p("accounts", Ps), Transactions = p("transactions", Ps),
    Self = self(),
    Bank = list_to_tuple([spawn(fun() -> account(?INITIAL_BALANCE) end) || _ <- lists:seq(1, Accounts)]),
    Teller = spawn(fun() -> receive {run_transfers, N} -> teller(Bank, N, Self) end end),
    {S, Confirmed} = timed(fun() -> Teller ! {run_transfers, Transactions}, receive {done, X} -> X end end),
    [A ! {balance, Self} || A <- tuple_to_list(Bank)],
    Total = collect_balances(Accounts, 0),
    {S, Transactions, held_check(Confirmed, Total, Accounts * ?INITIAL_BALANCE,
                                 "money not conserved: ~b != ~b"), Transactions};

%% -- logistic map --------------------------------------------------------------------------------
%% Series processes compute `terms` terms of x <- r x (1 - x), calling their own rate-computer
%% gen_server for every step. The check recomputes every series sequentially: bit-identical.
run("logistic-map", Ps) ->
    Series = p("series", Ps), Terms = p("terms", Ps),
    Self = self(),
    All = [begin
               {ok, Rate} = gen_server:start(?MODULE, {rate, rate_of(I)}, []),
               spawn(fun() -> receive {run_series, T} -> Self ! {series, I, logmap(Rate, start_term(I), T)} end end)
           end || I <- lists:seq(0, Series - 1)],
    {S, Results} = timed(fun() -> [A ! {run_series, Terms} || A <- All], collect_indexed(series, Series, #{}) end),
    Matching = length([I || I <- lists:seq(0, Series - 1),
                            maps:get(I, Results) =:= logmap_local(rate_of(I), start_term(I), Terms)]),
    {S, Series * Terms, Matching, Series};

%% -- trapezoid -----------------------------------------------------------------------------------
%% The integral of f over [1, 5] by the trapezoid rule, split across worker processes; the
%% partial areas are added in worker order, so the total is bit-identical to the same partition
%% summed sequentially (the check).
run("trapezoid", Ps) ->
    Pieces = p("pieces", Ps), N = p("workers_n", Ps),
    Lo = 1.0, Hi = 5.0,
    Width = (Hi - Lo) / N,
    Self = self(),
    Pool = [spawn(fun() ->
                      receive {integrate, L, R, P, Index} -> Self ! {partial, Index, area(L, R, P)} end
                  end) || _ <- lists:seq(1, N)],
    Jobs = lists:zip(lists:seq(0, N - 1), Pool),
    {S, Partial} = timed(fun() ->
        [W ! {integrate, Lo + Width * I, Lo + Width * (I + 1), Pieces div N, I} || {I, W} <- Jobs],
        collect_indexed(partial, N, #{})
    end),
    Total = lists:foldl(fun(I, Sum) -> Sum + maps:get(I, Partial) end, 0.0, lists:seq(0, N - 1)),
    Expected = lists:foldl(fun(I, Sum) -> Sum + area(Lo + Width * I, Lo + Width * (I + 1), Pieces div N) end,
                           0.0, lists:seq(0, N - 1)),
    {S, Pieces, bool_to_int(Total =:= Expected), 1};

%% -- precise pi --------------------------------------------------------------------------------------
%% Pi by the Bailey-Borwein-Plouffe series in binary fixed point, each term computed by a worker
%% and summed by a master in term order. libeam keeps fixed point in 32-bit limbs; here it is one
%% integer (Erlang integers are bignums) scaled by 2^(32 (limbs - 1)) and taken modulo
%% 2^(32 limbs), which is what the limb arithmetic computes. The check: the sum equals the same
%% sum done sequentially, and its first 50 digits are pi's.
run("precise-pi", Ps) ->
    Digits = p("digits", Ps), NWorkers = p("workers_n", Ps),
    Bits = trunc(math:ceil(Digits * 3.3219280948873622)) + 64,
    Limbs = Bits div 32 + 2,
    Terms = Bits div 4 + 2,
    Self = self(),
    Master = spawn(fun() -> pi_master(Terms, 0, #{}, 0, Limbs, Self) end),
    Pool = list_to_tuple([spawn(fun() -> pi_worker(Master, Limbs) end) || _ <- lists:seq(1, NWorkers)]),
    {S, Sum} = timed(fun() ->
        [element(K rem NWorkers + 1, Pool) ! {term_request, K} || K <- lists:seq(0, Terms - 1)],
        receive {pi, X} -> X end
    end),
    Expected = lists:foldl(fun(K, Acc) -> fixed_add(Acc, bbp_term(K, Limbs), Limbs) end, 0, lists:seq(0, Terms - 1)),
    DigitsRight = decimal(Sum, 50, Limbs) =:= "3.14159265358979323846264338327950288419716939937510",
    {S, Terms, bool_to_int(Sum =:= Expected andalso DigitsRight), 1};

%% -- quicksort ----------------------------------------------------------------------------------------
%% A process partitions its slice around a pivot and hands both sides to two new processes
%% until a slice is at most `threshold` long, which it sorts itself; sorted slices flow back up
%% and are joined. The check compares with lists:sort of the same input.
run("quicksort", Ps) ->
    N = p("n", Ps), Threshold = p("threshold", Ps),
    Input = lcg_list(2024, N, fun(X) -> X rem 100000000 end),
    Expected = lists:sort(Input),
    Self = self(),
    {S, Sorted} = timed(fun() ->
        spawn(fun() -> sorter(Input, Threshold, Self, left) end),
        receive {sorted, left, X} -> X end
    end),
    {S, N, bool_to_int(Sorted =:= Expected), 1};

%% -- radix sort ---------------------------------------------------------------------------------------
%% Values stream through a pipeline of one process per bit, least significant first; each passes
%% on values whose bit is 0 at once and holds those whose bit is 1 until the stream ends (a
%% stable partition per bit), so the last stage emits them sorted.
run("radix-sort", Ps) ->
    N = p("n", Ps), Bits = p("bits", Ps),
    Input = radix_input(N, Bits),
    Expected = lists:sort(Input),
    Self = self(),
    Sink = spawn(fun() -> radix_sink([], Self) end),
    First = lists:foldl(fun(Bit, Next) -> spawn(fun() -> radix_stage(Next, Bit, []) end) end,
                        Sink, lists:seq(Bits - 1, 0, -1)),
    Source = spawn(fun() ->
        receive end_of_stream -> [First ! {value, V} || V <- Input], First ! end_of_stream end
    end),
    {S, Output} = timed(fun() -> Source ! end_of_stream, receive {sorted, X} -> X end end),
    {S, N * Bits, bool_to_int(Output =:= Expected), 1};

%% -- recursive matrix multiplication ---------------------------------------------------------------
%% C = A x B for n x n matrices; a process owning a block of C splits it among four child
%% processes until a block holds at most `threshold` elements, which a leaf computes. A's rows and
%% B's columns are read-only and shared through persistent_term (no copy per process); each leaf
%% writes its disjoint rows of C into a public ETS table, Erlang's stand-in for libeam's shared
%% result matrix. The check recomputes 64 entries directly (integer-valued floats: exact).
run("recursive-matmul", Ps) ->
    N = p("n", Ps), Threshold = p("threshold", Ps),
    N band (N - 1) =:= 0 orelse error({badarg, "recursive-matmul: n must be a power of two"}),
    A = list_to_tuple([[float((I + J) rem 7) || J <- lists:seq(0, N - 1)] || I <- lists:seq(0, N - 1)]),
    B = list_to_tuple([[float((I * J) rem 5) || J <- lists:seq(0, N - 1)] || I <- lists:seq(0, N - 1)]),
    % B by columns, for the leaves' dot products (setup, like libeam's filling of the matrices).
    BColumns = list_to_tuple(transpose(tuple_to_list(B))),
    persistent_term:put({?MODULE, matmul}, {A, BColumns}),
    C = ets:new(matmul_c, [public, set, {write_concurrency, true}]),
    Self = self(),
    {S, _} = timed(fun() ->
        spawn(fun() -> matmul_block(C, 0, 0, N, Threshold, Self) end),
        receive block_done -> ok end
    end),
    Leaf = leaf_size(N, Threshold),
    Right = matmul_check(64, 5, N, A, B, C, Leaf, 0),
    {S, N * N * N, Right, 64};

%% -- n-queens ------------------------------------------------------------------------------------------
%% Counts the placements of n queens; while fewer than `threshold` queens are placed every partial
%% board is a process that spawns one child per safe column, from there a board counts
%% sequentially. The check is the known solution count.
run("n-queens", Ps) ->
    N = p("n", Ps), Threshold = p("threshold", Ps),
    Known = {1, 1, 0, 0, 2, 10, 4, 40, 92, 352, 724, 2680, 14200, 73712, 365596, 2279184},
    N >= 1 andalso N =< 15 orelse error({badarg, "n-queens: n must be 1..15"}),
    Want = element(N + 1, Known),
    Self = self(),
    {S, Got} = timed(fun() ->
        spawn(fun() -> board([], 0, N, Threshold, Self) end),
        receive {solutions, X} -> X end
    end),
    {S, Want, Got, Want};

%% -- fibonacci -------------------------------------------------------------------------------------------
%% fib(n) by naive recursion where every call is a process that spawns two children.
run("fibonacci", Ps) ->
    N = p("n", Ps),
    Self = self(),
    {S, Got} = timed(fun() -> spawn(fun() -> fib_process(N, Self) end), receive {fib, X} -> X end end),
    {S, fib_calls(N), Got, fib(N)};

%% -- sieve -----------------------------------------------------------------------------------------------
%% Odd numbers flow down a pipeline of filter processes, each holding up to `per_filter` primes;
%% a number no filter divides is a new prime, kept by the last filter or, when that one is full,
%% by a new filter it spawns. The check counts the primes up to `limit`.
run("sieve", Ps) ->
    Limit = p("limit", Ps), PerFilter = p("per_filter", Ps),
    Self = self(),
    Head = spawn(fun() -> filter([3], 1, PerFilter, none, Self) end),
    Generator = spawn(fun() ->
        receive {generate, L} -> generate(Head, 5, L), Head ! {no_more, 0} end
    end),
    {S, Got} = timed(fun() -> Generator ! {generate, Limit}, receive {primes, X} -> X end end),
    {S, Limit div 2, Got, primes_up_to(Limit)};

%% -- all-pairs shortest paths -------------------------------------------------------------------------
%% Floyd-Warshall on an n-node graph in b x b blocks, one process each. In step k every block
%% needs row k and column k: the blocks holding them send their segments to their column and row
%% neighbours, each block updates once it has both, then moves to step k + 1. The check runs
%% Floyd-Warshall sequentially.
run("apsp", Ps) ->
    N = p("n", Ps), Bsize = p("block", Ps),
    N rem Bsize =:= 0 orelse error({badarg, "apsp: n must be a multiple of block"}),
    Blocks = N div Bsize,
    Graph = apsp_graph(N),  % a list of n rows, each a list of n distances
    Self = self(),
    % Each block's distances are cut out here, so a block's closure copies only its own part.
    Grid = [begin
                D = [lists:sublist(Row, Bj * Bsize + 1, Bsize) || Row <- lists:sublist(Graph, Bi * Bsize + 1, Bsize)],
                St = #blk{bi = Bi, bj = Bj, b = Bsize, n = N, blocks = Blocks, d = D, parent = Self},
                spawn(fun() -> apsp_block_start(St) end)
            end || Bi <- lists:seq(0, Blocks - 1), Bj <- lists:seq(0, Blocks - 1)],
    GridTuple = list_to_tuple(Grid),
    {S, Done} = timed(fun() ->
        [Blk ! {peers, GridTuple} || Blk <- Grid],
        collect_blocks(Blocks * Blocks, #{})
    end),
    Result = [lists:append([lists:nth(I rem Bsize + 1, maps:get({I div Bsize, Bj}, Done))
                            || Bj <- lists:seq(0, Blocks - 1)])
              || I <- lists:seq(0, N - 1)],
    {S, N * N * N, bool_to_int(Result =:= floyd_warshall(Graph)), 1};

%% -- unbalanced tree -----------------------------------------------------------------------------------
%% Every node is a process that decides from its own seed how many children it has (the root:
%% breadth; others none with probability 1/4, else 1..breadth, up to `depth` levels), spawns
%% them, does a little work, and reports its subtree's size upward. The shape is random but
%% fixed by the seeds, so the check regenerates it sequentially. As in libeam's version, no
%% "cobweb" messages between random nodes.
run("unbalanced-tree", Ps) ->
    Depth = p("depth", Ps), Breadth = p("breadth", Ps),
    RootSeed = 12345,
    Expected = count_nodes(RootSeed, 0, Depth, Breadth),
    ok = draws_agree(),
    Self = self(),
    {S, Got} = timed(fun() ->
        spawn(fun() -> tree_node(RootSeed, 0, Depth, Breadth, Self) end),
        receive {subtree, X} -> X end
    end),
    {S, Expected, Got, Expected}.

%% -- shared pieces ---------------------------------------------------------------------------------------

p(Key, Params) -> maps:get(Key, Params).

%% Wall seconds of Fun(), with the CPU accounting eam_suite's JSON line reports.
timed(Fun) -> eam_suite:timed(Fun).

bool_to_int(true) -> 1;
bool_to_int(false) -> 0.

collect_sum(0, Sum) -> Sum;
collect_sum(K, Sum) -> receive {done, X} -> collect_sum(K - 1, Sum + X) end.

%% Replies tagged with an index, gathered into a map (they arrive in any order).
collect_indexed(_, 0, Acc) -> Acc;
collect_indexed(Tag, K, Acc) -> receive {Tag, I, V} -> collect_indexed(Tag, K - 1, Acc#{I => V}) end.

%% A workload whose libeam version checks a second quantity beside its result (the keys the
%% dictionary holds, the money in the bank): the result stands when that one is right too;
%% otherwise -1, with the reason on stderr, since eam_suite prints only result and expected.
held_check(Got, Held, Held, _) -> Got;
held_check(_, Held, WantHeld, Format) ->
    io:format(standard_error, Format ++ "~n", [Held, WantHeld]),
    -1.

%% common.hpp's lcg: 64-bit multiply-add, wrapped as the C++ unsigned arithmetic wraps; a draw is
%% the state's top 31 bits. Returns {Draw, NextState}.
lcg_next(State) ->
    Next = (State * 6364136223846793005 + 1442695040888963407) band ?MASK64,
    {Next bsr 33, Next}.

%% common.hpp's busy_work: Savina's "cost" of producing, consuming, smoking, cutting hair.
busy_work(Iterations, Seed) -> draw_sum(Iterations, Seed) band 1.

%% The sum of the first K draws of lcg{Seed}: the busy work and the tree nodes' work, the hot
%% loops. lcg_next's 64-bit products are bignums in Erlang, about 10x slower than this (and the
%% C++ multiply is one instruction), so they would make the arithmetic, not the actors, what
%% these workloads measure. Here the state is two 32-bit halves and the product is put together
%% from 16 x 32-bit pieces, every intermediate below 2^50 (a small integer); the draws are
%% lcg_next's exactly (draws_agree/0 checks).
-define(LCG_MUL_HI, (6364136223846793005 bsr 32)).
-define(LCG_MUL_LO, (6364136223846793005 band 16#FFFFFFFF)).
-define(LCG_ADD_HI, (1442695040888963407 bsr 32)).
-define(LCG_ADD_LO, (1442695040888963407 band 16#FFFFFFFF)).

draw_sum(K, Seed) -> draw_sum(K, Seed bsr 32, Seed band 16#FFFFFFFF, 0).
draw_sum(0, _, _, Sum) -> Sum;
draw_sum(K, Hi, Lo, Sum) ->
    Lo0 = Lo band 16#FFFF, Lo1 = Lo bsr 16,
    Mid = Lo1 * ?LCG_MUL_LO,
    Low = Lo0 * ?LCG_MUL_LO + ((Mid band 16#FFFF) bsl 16) + ?LCG_ADD_LO,
    % The low 32 bits of Lo * MUL_HI and of Hi * MUL_LO: only they reach the new high half.
    Cross = Lo0 * ?LCG_MUL_HI + (((Lo1 * ?LCG_MUL_HI) band 16#FFFF) bsl 16)
            + (Hi band 16#FFFF) * ?LCG_MUL_LO + ((((Hi bsr 16) * ?LCG_MUL_LO) band 16#FFFF) bsl 16),
    High = ((Low bsr 32) + (Mid bsr 16) + Cross + ?LCG_ADD_HI) band 16#FFFFFFFF,
    draw_sum(K - 1, High, Low band 16#FFFFFFFF, Sum + (High bsr 1)).

%% draw_sum/2 against lcg_next/1, on seeds that exercise every half (the results of busy work
%% are not checked, so a wrong draw would otherwise go unseen). Run before each workload that
%% uses it.
draws_agree() ->
    Plain = fun(K, Seed) -> element(2, lists:foldl(fun(_, {S, Sum}) -> {X, Next} = lcg_next(S), {Next, Sum + X} end,
                                                   {Seed, 0}, lists:seq(1, K)))
            end,
    [Seed || Seed <- [0, 1, 12345, 16#FFFFFFFF, 16#123456789ABCDEF, ?MASK64],
             draw_sum(300, Seed) =/= Plain(300, Seed)] =:= []
        orelse error("draw_sum/2 does not draw what lcg_next/1 draws"),
    ok.

%% N draws of lcg{Seed}, each mapped by F, in order.
lcg_list(Seed, N, F) -> lcg_list(Seed, N, F, []).
lcg_list(_, 0, _, Acc) -> lists:reverse(Acc);
lcg_list(State, K, F, Acc) ->
    {X, Next} = lcg_next(State),
    lcg_list(Next, K - 1, F, [F(X) | Acc]).

%% -- concurrent dictionary ------------------------------------------------------------------------------
-define(KEY_SPACE, 10000).

%% A client's operation stream: a draw decides write or read, the next draw is the key.
dict_op(Rng, WritePercent) ->
    {W, R1} = lcg_next(Rng),
    {K, R2} = lcg_next(R1),
    {W rem 100 < WritePercent, K rem ?KEY_SPACE, R2}.

dict_writes(Seed, Ops, WritePercent, Keys) -> dict_writes(Seed, Ops, WritePercent, Keys, 0).
dict_writes(_, Ops, _, Keys, Ops) -> Keys;
dict_writes(Rng, Ops, WritePercent, Keys, I) ->
    {Write, Key, Next} = dict_op(Rng, WritePercent),
    dict_writes(Next, Ops, WritePercent, case Write of true -> Keys#{Key => true}; false -> Keys end, I + 1).

%% Counts the calls that were answered (all of them, unless the dictionary fails).
dict_client(_, _, Ops, _, Ops, Answered) -> Answered;
dict_client(Dict, Rng, Ops, WritePercent, I, Answered) ->
    {Write, Key, Next} = dict_op(Rng, WritePercent),
    _ = case Write of
            true -> gen_server:call(Dict, {put, Key, I}, infinity);
            false -> gen_server:call(Dict, {get, Key}, infinity)
        end,
    dict_client(Dict, Next, Ops, WritePercent, I + 1, Answered + 1).

%% -- bounded buffer ----------------------------------------------------------------------------------
bb_manager(#bb{} = St) ->
    receive
        {data, V, From} when St#bb.idle_n > 0 ->
            {{value, C}, Idle} = queue:out(St#bb.idle),
            C ! {item, V},
            From ! produce_more,
            bb_manager(St#bb{idle = Idle, idle_n = St#bb.idle_n - 1});
        {data, V, From} when St#bb.buffer_n < St#bb.capacity ->
            From ! produce_more,
            bb_manager(St#bb{buffer = queue:in(V, St#bb.buffer), buffer_n = St#bb.buffer_n + 1});
        {data, V, From} ->
            bb_manager(St#bb{pending = queue:in({V, From}, St#bb.pending)});
        producer_exit ->
            bb_manager(bb_maybe_finish(St#bb{producers_left = St#bb.producers_left - 1}));
        {ready, C} when St#bb.buffer_n =:= 0 ->
            bb_manager(bb_maybe_finish(St#bb{idle = queue:in(C, St#bb.idle), idle_n = St#bb.idle_n + 1}));
        {ready, C} ->
            {{value, V}, Buffer} = queue:out(St#bb.buffer),
            C ! {item, V},
            % A held-back producer's item takes the freed slot, and that producer may go on.
            case queue:out(St#bb.pending) of
                {{value, {Held, From}}, Pending} ->
                    From ! produce_more,
                    bb_manager(St#bb{buffer = queue:in(Held, Buffer), pending = Pending});
                {empty, _} ->
                    bb_manager(St#bb{buffer = Buffer, buffer_n = St#bb.buffer_n - 1})
            end;
        {consumer_total, _Count, Sum} when St#bb.reports + 1 =:= St#bb.consumers ->
            St#bb.parent ! {done, St#bb.sum + Sum};
        {consumer_total, _Count, Sum} ->
            bb_manager(St#bb{reports = St#bb.reports + 1, sum = St#bb.sum + Sum})
    end.

%% Once every producer has left and every item is consumed, the idle consumers go home.
bb_maybe_finish(#bb{stopping = false, producers_left = 0, buffer_n = 0, idle_n = N, consumers = N} = St) ->
    case queue:is_empty(St#bb.pending) of
        true ->
            [C ! stop_consuming || C <- queue:to_list(St#bb.idle)],
            St#bb{stopping = true};
        false ->
            St
    end;
bb_maybe_finish(St) -> St.

bb_consumer(Manager, Cost, Count, Sum, Sink) ->
    receive
        {item, V} ->
            Work = busy_work(Cost, V),
            Manager ! {ready, self()},
            bb_consumer(Manager, Cost, Count + 1, Sum + V, Sink + Work);
        stop_consuming ->
            Manager ! {consumer_total, Count, Sum}
    end.

bb_producer(Manager, First, Count, Cost, Made, Sink) ->
    receive
        produce_more when Made =:= Count ->
            Manager ! producer_exit;
        produce_more ->
            V = First + Made,
            Work = busy_work(Cost, V),
            Manager ! {data, V, self()},
            bb_producer(Manager, First, Count, Cost, Made + 1, Sink + Work)
    end.

%% -- dining philosophers ------------------------------------------------------------------------------
%% Forks is a tuple of booleans, fork I+1 being philosopher I's left one.
arbitrator(Forks, Count, Left, Meals, Parent) ->
    receive
        {hungry, Id, Who} ->
            A = Id + 1, B = (Id + 1) rem Count + 1,
            case element(A, Forks) orelse element(B, Forks) of
                true ->
                    Who ! denied,
                    arbitrator(Forks, Count, Left, Meals, Parent);
                false ->
                    Who ! eat,
                    arbitrator(setelement(B, setelement(A, Forks, true), true), Count, Left, Meals, Parent)
            end;
        {finished_eating, Id} ->
            Forks1 = setelement((Id + 1) rem Count + 1, setelement(Id + 1, Forks, false), false),
            arbitrator(Forks1, Count, Left, Meals, Parent);
        {leaving, M} when Left =:= 1 ->
            Parent ! {done, Meals + M};
        {leaving, M} ->
            arbitrator(Forks, Count, Left - 1, Meals + M, Parent)
    end.

philosopher(Id, ToEat, Arbitrator, Meals) ->
    receive
        eat when Meals + 1 < ToEat ->
            Arbitrator ! {finished_eating, Id},
            Arbitrator ! {hungry, Id, self()},
            philosopher(Id, ToEat, Arbitrator, Meals + 1);
        eat ->
            Arbitrator ! {finished_eating, Id},
            Arbitrator ! {leaving, Meals + 1};
        Ask when Ask =:= denied; Ask =:= begin_meal ->
            Arbitrator ! {hungry, Id, self()},
            philosopher(Id, ToEat, Arbitrator, Meals)
    end.

%% -- sleeping barber --------------------------------------------------------------------------------------
room(Capacity, Waiting, WaitingN, Barber, Asleep) ->
    receive
        {arrive, Who} when WaitingN =:= Capacity ->
            Who ! room_full,
            room(Capacity, Waiting, WaitingN, Barber, Asleep);
        {arrive, Who} when Asleep ->
            Barber ! {cut, Who},
            room(Capacity, Waiting, WaitingN, Barber, false);
        {arrive, Who} ->
            room(Capacity, queue:in(Who, Waiting), WaitingN + 1, Barber, false);
        next_please when WaitingN =:= 0 ->
            room(Capacity, Waiting, 0, Barber, true);
        next_please ->
            {{value, Who}, Rest} = queue:out(Waiting),
            Barber ! {cut, Who},
            room(Capacity, Rest, WaitingN - 1, Barber, false)
    end.

barber(Room, Cost, Sink) ->
    receive
        {cut, Who} ->
            Sink1 = Sink + busy_work(Cost, Sink + 1),
            Who ! haircut_done,
            Room ! next_please,
            barber(Room, Cost, Sink1)
    end.

factory(Room, Cost, Parent) ->
    receive
        {open_shop, Customers} ->
            Self = self(),
            lists:foldl(fun(I, Sink) ->
                            Customer = spawn(fun() -> customer(Self) end),
                            Sink1 = Sink + busy_work(Cost, I + 1),  % time between arrivals
                            Room ! {arrive, Customer},
                            Sink1
                        end, 0, lists:seq(0, Customers - 1)),
            factory_serve(Room, Customers, 0, Parent)
    end.

factory_serve(Room, Expected, Served, Parent) ->
    receive
        {returned, Who} ->
            Room ! {arrive, Who},
            factory_serve(Room, Expected, Served, Parent);
        served when Served + 1 =:= Expected ->
            Parent ! {done, Expected};
        served ->
            factory_serve(Room, Expected, Served + 1, Parent)
    end.

customer(Factory) ->
    receive
        room_full -> Factory ! {returned, self()}, customer(Factory);
        haircut_done -> Factory ! served
    end.

%% -- cigarette smokers ------------------------------------------------------------------------------------
arbiter_start(Smokers, Rounds, Parent) ->
    arbiter(Smokers, next_round(Smokers, 42), Rounds - 1, Parent).

%% One round: a draw picks the smoker, the next one how long it smokes. Returns the next state.
next_round(Smokers, Rng) ->
    {Pick, R1} = lcg_next(Rng),
    {Busy, R2} = lcg_next(R1),
    element(Pick rem tuple_size(Smokers) + 1, Smokers) ! {smoke, Busy rem 1000 + 10},
    R2.

arbiter(Smokers, Rng, RoundsLeft, Parent) ->
    receive
        started when RoundsLeft > 0 ->
            arbiter(Smokers, next_round(Smokers, Rng), RoundsLeft - 1, Parent);
        started ->
            [S ! go_home || S <- tuple_to_list(Smokers)],
            Parent ! {done, collect_smoked(tuple_size(Smokers), 0)}
    end.

collect_smoked(0, Total) -> Total;
collect_smoked(K, Total) -> receive {smoked_total, N} -> collect_smoked(K - 1, Total + N) end.

smoker(Arbiter, Smoked, Sink) ->
    receive
        {smoke, Busy} ->
            Arbiter ! started,
            Work = busy_work(Busy, Busy + 7),
            smoker(Arbiter, Smoked + 1, Sink + Work);
        go_home ->
            Arbiter ! {smoked_total, Smoked}
    end.

%% -- bank transaction --------------------------------------------------------------------------------------
account(Money) ->
    receive
        {transfer, Amount, To, Teller} ->
            To ! {credit, Amount, Teller},
            account(Money - Amount);
        {credit, Amount, Teller} ->
            Teller ! confirmed,
            account(Money + Amount);
        {balance, From} ->
            From ! {balance, Money},
            account(Money)
    end.

teller(Bank, N, Parent) ->
    order_transfers(Bank, tuple_size(Bank), 99, N),
    confirm(N, 0, Parent).

%% Draws: source, destination (moved on by one if it is the source), amount.
order_transfers(_, _, _, 0) -> ok;
order_transfers(Bank, Size, Rng, K) ->
    {F, R1} = lcg_next(Rng),
    {T, R2} = lcg_next(R1),
    {Amount, R3} = lcg_next(R2),
    From = F rem Size,
    To = case T rem Size of From -> (From + 1) rem Size; Other -> Other end,
    element(From + 1, Bank) ! {transfer, Amount rem 1000, element(To + 1, Bank), self()},
    order_transfers(Bank, Size, R3, K - 1).

confirm(N, N, Parent) -> Parent ! {done, N};
confirm(N, Seen, Parent) -> receive confirmed -> confirm(N, Seen + 1, Parent) end.

collect_balances(0, Total) -> Total;
collect_balances(K, Total) -> receive {balance, M} -> collect_balances(K - 1, Total + M) end.

%% -- logistic map ---------------------------------------------------------------------------------------------
start_term(I) -> 0.0001 * (I + 1).
rate_of(I) -> 3.46 + 0.0025 * I.

logmap(_, X, 0) -> X;
logmap(Rate, X, T) -> logmap(Rate, gen_server:call(Rate, {compute, X}, infinity), T - 1).

%% The same recurrence without processes (the check).
logmap_local(_, X, 0) -> X;
logmap_local(R, X, T) -> logmap_local(R, next_term(R, X), T - 1).

%% One step, the rate computer's answer and the check's, written once so both round alike
%% (grouped as libeam's: (r x) (1 - x)).
next_term(R, X) -> R * X * (1 - X).

%% -- trapezoid --------------------------------------------------------------------------------------------------
f(X) -> (X + 1) / math:sqrt(X * X + 1) * math:exp(-0.1 * X) * math:sin(X) + 2.

%% No pieces, no area (libeam's loop does not run then; here H would divide by zero).
area(_, _, 0) -> 0.0;
area(Left, Right, Pieces) ->
    H = (Right - Left) / Pieces,
    area(Left, H, Pieces, 0, 0.0).

area(_, _, Pieces, Pieces, Sum) -> Sum;
area(Left, H, Pieces, I, Sum) ->
    A = Left + I * H,
    area(Left, H, Pieces, I + 1, Sum + (f(A) + f(A + H)) * H / 2).

%% -- precise pi ---------------------------------------------------------------------------------------------------
%% Fixed point with `Limbs` 32-bit limbs: the integer part in the top limb, so one unit is
%% 2^(32 (Limbs - 1)); sums and differences wrap at 2^(32 Limbs) like the limb carries do.
fraction_bits(Limbs) -> 32 * (Limbs - 1).

fixed_divide(Numerator, Divisor, Limbs) -> (Numerator bsl fraction_bits(Limbs)) div Divisor.
fixed_add(A, B, Limbs) -> (A + B) band ((1 bsl (32 * Limbs)) - 1).
fixed_subtract(A, B, Limbs) -> (A - B) band ((1 bsl (32 * Limbs)) - 1).

%% 16^-k (4/(8k+1) - 2/(8k+4) - 1/(8k+5) - 1/(8k+6)), each quotient rounded down as libeam's.
bbp_term(K, Limbs) ->
    T0 = fixed_divide(4, 8 * K + 1, Limbs),
    T1 = fixed_subtract(T0, fixed_divide(2, 8 * K + 4, Limbs), Limbs),
    T2 = fixed_subtract(T1, fixed_divide(1, 8 * K + 5, Limbs), Limbs),
    T3 = fixed_subtract(T2, fixed_divide(1, 8 * K + 6, Limbs), Limbs),
    T3 bsr (4 * K).

%% "I.DDD..." with `Digits` fraction digits, truncated (as libeam's decimal()).
decimal(X, Digits, Limbs) ->
    Bits = fraction_bits(Limbs),
    Fraction = ((X band ((1 bsl Bits) - 1)) * pow(10, Digits)) bsr Bits,
    integer_to_list(X bsr Bits) ++ "." ++ lists:flatten(io_lib:format("~*..0B", [Digits, Fraction])).

pow(_, 0) -> 1;
pow(B, E) -> B * pow(B, E - 1).

pi_worker(Master, Limbs) ->
    receive {term_request, K} -> Master ! {term_value, K, bbp_term(K, Limbs)}, pi_worker(Master, Limbs) end.

%% Adds the terms in term order, holding back those that come early.
pi_master(Terms, Terms, _, Sum, _, Parent) -> Parent ! {pi, Sum};
pi_master(Terms, Next, Early, Sum, Limbs, Parent) ->
    case maps:take(Next, Early) of
        {Value, Rest} -> pi_master(Terms, Next + 1, Rest, fixed_add(Sum, Value, Limbs), Limbs, Parent);
        error -> receive {term_value, K, V} -> pi_master(Terms, Next, Early#{K => V}, Sum, Limbs, Parent) end
    end.

%% -- quicksort -----------------------------------------------------------------------------------------------------
sorter(Values, Threshold, Parent, Side) ->
    Length = length(Values),
    case Length =< Threshold of
        true ->
            Parent ! {sorted, Side, lists:sort(Values)};
        false ->
            Pivot = lists:nth(Length div 2 + 1, Values),
            {Less, Equal, Greater} = partition(Values, Pivot, [], [], []),
            Self = self(),
            spawn(fun() -> sorter(Less, Threshold, Self, left) end),
            spawn(fun() -> sorter(Greater, Threshold, Self, right) end),
            Left = receive {sorted, left, L} -> L end,
            Right = receive {sorted, right, R} -> R end,
            Parent ! {sorted, Side, Left ++ Equal ++ Right}
    end.

%% Keeps each side in input order, as libeam's push_backs do (so the children pick the same pivots).
partition([], _, L, E, G) -> {lists:reverse(L), lists:reverse(E), lists:reverse(G)};
partition([X | Xs], P, L, E, G) when X < P -> partition(Xs, P, [X | L], E, G);
partition([X | Xs], P, L, E, G) when X > P -> partition(Xs, P, L, E, [X | G]);
partition([X | Xs], P, L, E, G) -> partition(Xs, P, L, [X | E], G).

%% -- radix sort -----------------------------------------------------------------------------------------------------
%% Each value joins two draws, (first << 31 | second), masked to `Bits` bits.
radix_input(N, Bits) -> radix_input(77, N, (1 bsl Bits) - 1, []).
radix_input(_, 0, _, Acc) -> lists:reverse(Acc);
radix_input(Rng, K, Mask, Acc) ->
    {Hi, R1} = lcg_next(Rng),
    {Lo, R2} = lcg_next(R1),
    radix_input(R2, K - 1, Mask, [((Hi bsl 31) bor Lo) band Mask | Acc]).

radix_stage(Next, Bit, Held) ->
    receive
        {value, V} when (V bsr Bit) band 1 =:= 1 ->
            radix_stage(Next, Bit, [V | Held]);
        {value, _} = Msg ->
            Next ! Msg,
            radix_stage(Next, Bit, Held);
        end_of_stream ->
            [Next ! {value, V} || V <- lists:reverse(Held)],
            Next ! end_of_stream
    end.

radix_sink(Acc, Parent) ->
    receive
        {value, V} -> radix_sink([V | Acc], Parent);
        end_of_stream -> Parent ! {sorted, lists:reverse(Acc)}
    end.

%% -- recursive matrix multiplication ----------------------------------------------------------------------------------
matmul_block(C, Row, Col, Size, Threshold, Parent) when Size * Size =< Threshold; Size =:= 1 ->
    matmul_leaf(C, Row, Col, Size),
    Parent ! block_done;
matmul_block(C, Row, Col, Size, Threshold, Parent) ->
    H = Size div 2,
    Self = self(),
    [spawn(fun() -> matmul_block(C, Row + (Q div 2) * H, Col + (Q rem 2) * H, H, Threshold, Self) end)
     || Q <- lists:seq(0, 3)],
    [receive block_done -> ok end || _ <- lists:seq(1, 4)],
    Parent ! block_done.

%% Rows Row..Row+Size-1 of C, columns Col..Col+Size-1, each entry the dot product of A's row
%% and B's column. libeam loops i-k-j over arrays instead; every entry still adds its products
%% from 0.0 in k order, so C is the same bit for bit, and on lists the dot product is twice as
%% fast. Each row's slice goes to the ETS table under {I, Col}.
matmul_leaf(C, Row, Col, Size) ->
    {A, BColumns} = persistent_term:get({?MODULE, matmul}),
    Columns = [element(J + 1, BColumns) || J <- lists:seq(Col, Col + Size - 1)],
    [begin
         Ai = element(I + 1, A),
         ets:insert(C, {{I, Col}, [dot(Ai, Bj, 0.0) || Bj <- Columns]})
     end || I <- lists:seq(Row, Row + Size - 1)],
    ok.

dot([Aik | As], [Bkj | Bs], Sum) -> dot(As, Bs, Sum + Aik * Bkj);
dot([], [], Sum) -> Sum.

transpose([[] | _]) -> [];
transpose(Rows) -> [[X || [X | _] <- Rows] | transpose([Rest || [_ | Rest] <- Rows])].

%% The side of the leaf blocks (all leaves are the same size: the splits halve evenly).
leaf_size(Size, Threshold) when Size * Size =< Threshold; Size =:= 1 -> Size;
leaf_size(Size, Threshold) -> leaf_size(Size div 2, Threshold).

matmul_check(0, _, _, _, _, _, _, Right) -> Right;
matmul_check(T, Rng, N, A, B, C, Leaf, Right) ->
    {Di, R1} = lcg_next(Rng),
    {Dj, R2} = lcg_next(R1),
    I = Di rem N, J = Dj rem N,
    Want = lists:foldl(fun({Aik, Bk}, Sum) -> Sum + Aik * lists:nth(J + 1, Bk) end,
                       0.0, lists:zip(element(I + 1, A), tuple_to_list(B))),
    [{_, RowSlice}] = ets:lookup(C, {I, J - J rem Leaf}),
    Got = lists:nth(J rem Leaf + 1, RowSlice),
    matmul_check(T - 1, R2, N, A, B, C, Leaf, Right + bool_to_int(Got == Want)).

%% -- n-queens ------------------------------------------------------------------------------------------------------------
%% Rows holds the placed queens' columns, the latest first; Placed is its length.
safe(Col, Rows) -> safe(Col, Rows, 1).
safe(_, [], _) -> true;
safe(Col, [C | Cs], Distance) ->
    C =/= Col andalso C - Col =/= Distance andalso Col - C =/= Distance andalso safe(Col, Cs, Distance + 1).

count_from(_, N, N) -> 1;
count_from(Rows, Placed, N) ->
    lists:sum([count_from([C | Rows], Placed + 1, N) || C <- lists:seq(0, N - 1), safe(C, Rows)]).

board(Rows, Placed, N, Threshold, Parent) when Placed >= Threshold; Placed =:= N ->
    Parent ! {solutions, count_from(Rows, Placed, N)};
board(Rows, Placed, N, Threshold, Parent) ->
    Self = self(),
    Children = [spawn(fun() -> board([C | Rows], Placed + 1, N, Threshold, Self) end)
                || C <- lists:seq(0, N - 1), safe(C, Rows)],
    Parent ! {solutions, collect_solutions(length(Children), 0)}.

collect_solutions(0, Sum) -> Sum;
collect_solutions(K, Sum) -> receive {solutions, X} -> collect_solutions(K - 1, Sum + X) end.

%% -- fibonacci -------------------------------------------------------------------------------------------------------------
fib_process(N, Parent) when N =< 2 -> Parent ! {fib, 1};
fib_process(N, Parent) ->
    Self = self(),
    spawn(fun() -> fib_process(N - 1, Self) end),
    spawn(fun() -> fib_process(N - 2, Self) end),
    receive {fib, A} -> receive {fib, B} -> Parent ! {fib, A + B} end end.

fib(N) when N =< 2 -> 1;
fib(N) -> fib(N - 1) + fib(N - 2).

%% Processes spawned for fib(N), the root included: the workload's items.
fib_calls(N) when N =< 2 -> 1;
fib_calls(N) -> 1 + fib_calls(N - 1) + fib_calls(N - 2).

%% -- sieve -----------------------------------------------------------------------------------------------------------------
generate(_, N, Limit) when N > Limit -> ok;
generate(Head, N, Limit) -> Head ! {candidate, N}, generate(Head, N + 2, Limit).

%% Primes in ascending order (tried smallest first, as libeam's), Count = length(Primes).
filter(Primes, Count, Capacity, Next, Parent) ->
    receive
        {candidate, N} ->
            case lists:any(fun(P) -> N rem P =:= 0 end, Primes) of
                true -> filter(Primes, Count, Capacity, Next, Parent);
                false when Next =/= none ->
                    Next ! {candidate, N},
                    filter(Primes, Count, Capacity, Next, Parent);
                false when Count < Capacity ->
                    filter(Primes ++ [N], Count + 1, Capacity, Next, Parent);
                false ->
                    New = spawn(fun() -> filter([N], 1, Capacity, none, Parent) end),
                    filter(Primes, Count, Capacity, New, Parent)
            end;
        {no_more, Before} when Next =:= none ->
            Parent ! {primes, Before + Count + 1};  % + the prime 2, which the generator never sends
        {no_more, Before} ->
            Next ! {no_more, Before + Count}
    end.

%% The check: primes up to Limit by the sieve of Eratosthenes over an atomics array.
primes_up_to(Limit) when Limit < 2 -> 0;
primes_up_to(Limit) ->
    Composite = atomics:new(Limit, [{signed, false}]),
    lists:foldl(fun(I, Count) ->
                    case atomics:get(Composite, I) of
                        1 -> Count;
                        0 when I * I > Limit -> Count + 1;
                        0 -> [atomics:put(Composite, J, 1) || J <- lists:seq(I * I, Limit, I)], Count + 1
                    end
                end, 0, lists:seq(2, Limit)).

%% -- all-pairs shortest paths -----------------------------------------------------------------------------------------------
-define(UNREACHABLE, (1 bsl 40)).

%% Edge i -> j exists with probability 3/4, weight 1..100 (one draw for absent edges, two otherwise).
apsp_graph(N) ->
    {Rows, _} = lists:mapfoldl(fun(I, Rng) -> lists:mapfoldl(fun(J, R) -> apsp_edge(I, J, R) end, Rng, lists:seq(0, N - 1)) end,
                               11, lists:seq(0, N - 1)),
    Rows.

apsp_edge(I, I, Rng) -> {0, Rng};
apsp_edge(_, _, Rng) ->
    case lcg_next(Rng) of
        {X, R1} when X rem 4 =/= 0 -> {W, R2} = lcg_next(R1), {W rem 100 + 1, R2};
        {_, R1} -> {?UNREACHABLE, R1}
    end.

%% Segments come with their step; they may arrive before the block knows its peers, and before
%% the block reaches their step, so they wait in maps by step.
apsp_block_start(St) ->
    % Its peers first: advancing publishes the next step's segments, which needs them.
    receive {peers, Grid} -> apsp_block(apsp_advance(apsp_publish(St#blk{grid = Grid}))) end.

apsp_block(done) -> ok;
apsp_block(#blk{} = St) ->
    receive
        {row_segment, K, R} -> apsp_block(apsp_advance(St#blk{rows = (St#blk.rows)#{K => R}}));
        {column_segment, K, C} -> apsp_block(apsp_advance(St#blk{columns = (St#blk.columns)#{K => C}}))
    end.

%% This block holds row k (for its columns) and/or column k (for its rows) of step k.
apsp_publish(#blk{k = K, b = B, bi = Bi, bj = Bj, blocks = Blocks, grid = Grid, d = D} = St) ->
    Kb = K div B, Local = K rem B,
    case Bi of
        Kb ->
            R = lists:nth(Local + 1, D),
            [element(I * Blocks + Bj + 1, Grid) ! {row_segment, K, R} || I <- lists:seq(0, Blocks - 1)];
        _ -> ok
    end,
    case Bj of
        Kb ->
            C = [lists:nth(Local + 1, Row) || Row <- D],
            [element(Bi * Blocks + J + 1, Grid) ! {column_segment, K, C} || J <- lists:seq(0, Blocks - 1)];
        _ -> ok
    end,
    St.

%% Runs every step whose segments are both here; `done` after the last, once the block is sent.
apsp_advance(#blk{k = N, n = N} = St) ->
    St#blk.parent ! {block, St#blk.bi, St#blk.bj, St#blk.d},
    done;
apsp_advance(#blk{k = K, rows = Rows, columns = Columns} = St) ->
    case {maps:take(K, Rows), maps:take(K, Columns)} of
        {{R, Rows1}, {C, Columns1}} ->
            D = relax_rows(St#blk.d, C, R),
            Next = St#blk{k = K + 1, d = D, rows = Rows1, columns = Columns1},
            apsp_advance(case K + 1 < St#blk.n of true -> apsp_publish(Next); false -> Next end);
        _ ->
            St
    end.

%% Row i of a block becomes min(d[i][j], c[i] + r[j]) for every j: one relaxation per cell.
relax_rows([Row | Rows], [Ci | Cs], R) -> [relax(Row, Ci, R) | relax_rows(Rows, Cs, R)];
relax_rows([], [], _) -> [].

relax([Cell | Cells], Ci, [Rj | Rs]) -> [min(Cell, Ci + Rj) | relax(Cells, Ci, Rs)];
relax([], _, []) -> [].

collect_blocks(0, Acc) -> Acc;
collect_blocks(K, Acc) -> receive {block, Bi, Bj, D} -> collect_blocks(K - 1, Acc#{{Bi, Bj} => D}) end.

%% The check: Floyd-Warshall on the whole matrix. Row k and column k do not change in step k
%% (d[k][k] = 0), so each step can read them from the matrix as it was.
floyd_warshall(D) -> floyd_warshall(D, 0, length(D)).
floyd_warshall(D, N, N) -> D;
floyd_warshall(D, K, N) ->
    Rk = lists:nth(K + 1, D),
    D1 = [relax(Row, lists:nth(K + 1, Row), Rk) || Row <- D],
    floyd_warshall(D1, K + 1, N).

%% -- unbalanced tree -----------------------------------------------------------------------------------------------------------
child_seed(Seed, I) ->
    {X, _} = lcg_next((Seed * 31 + I + 1) band ?MASK64),
    X.

children_of(_, Level, Depth, _) when Level >= Depth -> 0;
children_of(_, 0, _, Breadth) -> Breadth;  % the root always branches
children_of(Seed, _, _, Breadth) ->
    case lcg_next(Seed) of
        {X, _} when X rem 4 =:= 0 -> 0;
        {_, R1} -> {Y, _} = lcg_next(R1), 1 + Y rem Breadth
    end.

count_nodes(Seed, Level, Depth, Breadth) ->
    1 + lists:sum([count_nodes(child_seed(Seed, I), Level + 1, Depth, Breadth)
                   || I <- lists:seq(0, children_of(Seed, Level, Depth, Breadth) - 1)]).

tree_node(Seed, Level, Depth, Breadth, Parent) ->
    _ = node_work(Seed),
    Children = children_of(Seed, Level, Depth, Breadth),
    Self = self(),
    [spawn(fun() -> tree_node(child_seed(Seed, I), Level + 1, Depth, Breadth, Self) end)
     || I <- lists:seq(0, Children - 1)],
    Parent ! {subtree, collect_subtrees(Children, 1)}.

%% The node's own computation: 200 draws of its generator, summed.
node_work(Seed) -> draw_sum(200, Seed).

collect_subtrees(0, Total) -> Total;
collect_subtrees(K, Total) -> receive {subtree, N} -> collect_subtrees(K - 1, Total + N) end.

%% -- gen_server callbacks: the dictionary and the logistic map's rate computers ----------------------------------------------
init(dictionary) -> {ok, {dictionary, #{}}};
init({rate, R}) -> {ok, {rate, R}}.

%% put answers whether the key is new (libeam's insert_or_assign().second); get answers -1 for
%% a missing key.
handle_call({put, Key, Value}, _From, {dictionary, Map}) ->
    {reply, not maps:is_key(Key, Map), {dictionary, Map#{Key => Value}}};
handle_call({get, Key}, _From, {dictionary, Map} = State) ->
    {reply, maps:get(Key, Map, -1), State};
handle_call(size, _From, {dictionary, Map} = State) ->
    {reply, map_size(Map), State};
handle_call({compute, X}, _From, {rate, R} = State) ->
    {reply, next_term(R, X), State}.

handle_cast(_, State) -> {noreply, State}.
