%% The suite's workloads on Erlang/OTP 25, written as Erlang programmers write them: plain
%% processes and messages, gen_server for request/reply. Parameters and result checks match
%% bench/suite/eam/. Run by tools/suite.py as
%%   erl -noshell +S W:W -pa DIR -run eam_suite main -extra --workload NAME --PARAM VALUE ...
%% and prints the same JSON line as the C++ suite binaries.
-module(eam_suite).
-behaviour(gen_server).
-export([main/0, main/1]).
-export([timed/1]).  % eam_savina's workloads are timed (and their CPU counted) the same way
-export([init/1, handle_call/3, handle_cast/2]).

main() -> main(init:get_plain_arguments()).

main(Args) ->
    {Name, Params} = parse(Args, undefined, #{}),
    {Cpu0, _} = statistics(runtime),
    {Seconds, Items, Got, Want} = run(Name, Params),
    {Cpu1, _} = statistics(runtime),
    %% CPU of every runtime thread over the timed span (timed/1), else over the whole run.
    Cpu = case get(timed_cpu_s) of undefined -> (Cpu1 - Cpu0) / 1000; C -> C end,
    Ok = Got =:= Want,
    io:format("{\"workload\": \"~s\", \"seconds\": ~.6f, \"items\": ~b, \"ok\": ~s, "
              "\"detail\": \"result ~b, expected ~b\", \"cpu_s\": ~.3f, \"peak_mib\": ~.2f}~n",
              [Name, Seconds, Items, atom_to_list(Ok), Got, Want, Cpu, peak_mib()]),
    halt(case Ok of true -> 0; false -> 1 end).

%% The VM's peak resident MiB since its exec (VmHWM of /proc/self/status), or -1: the suite's
%% wait4 counts the forking Python's memory too.
peak_mib() ->
    case file:read_file("/proc/self/status") of
        {ok, Status} ->
            case re:run(Status, "VmHWM:\\s+([0-9]+) kB", [{capture, all_but_first, list}]) of
                {match, [Kb]} -> list_to_integer(Kb) / 1024;
                nomatch -> -1.0
            end;
        _ -> -1.0
    end.

parse([], Name, Params) -> {Name, Params};
parse(["--workload", Name | Rest], _, Params) -> parse(Rest, Name, Params);
parse(["--workers", _ | Rest], Name, Params) -> parse(Rest, Name, Params);  % set with +S
parse(["--" ++ Key, Value | Rest], Name, Params) ->
    parse(Rest, Name, Params#{Key => list_to_integer(Value)}).

%% Wall seconds of Fun(); the runtime's CPU seconds over the same span (statistics(runtime):
%% every thread, milliseconds) go to the process dictionary for main/1.
timed(Fun) ->
    {Cpu0, _} = statistics(runtime),
    T0 = erlang:monotonic_time(microsecond),
    Result = Fun(),
    Wall = (erlang:monotonic_time(microsecond) - T0) / 1.0e6,
    {Cpu1, _} = statistics(runtime),
    put(timed_cpu_s, (Cpu1 - Cpu0) / 1000 + case get(timed_cpu_s) of undefined -> 0; C -> C end),
    {Wall, Result}.

p(Key, Params) -> maps:get(Key, Params).

%% -- ping-pong ------------------------------------------------------------------------------
run("ping-pong", Ps) ->
    N = p("n", Ps),
    Self = self(),
    {S, R} = timed(fun() ->
        Pong = spawn(fun pong/0),
        spawn(fun() -> ping(Pong, N, Self) end),
        receive {done, X} -> X end
    end),
    {S, N, R, 1};

%% -- counting ---------------------------------------------------------------------------------
run("counting", Ps) ->
    N = p("n", Ps),
    Self = self(),
    {S, R} = timed(fun() ->
        Counter = spawn(fun() -> counter(0) end),
        spawn(fun() ->
            [Counter ! inc || _ <- lists:seq(1, N)],
            Counter ! {get, self()},
            receive {count, C} -> Self ! {done, C} end
        end),
        receive {done, X} -> X end
    end),
    {S, N, R, N};

%% -- fork-join throughput -----------------------------------------------------------------------
run("fork-join-throughput", Ps) ->
    A = p("actors", Ps), N = p("n", Ps),
    Self = self(),
    {S, R} = timed(fun() ->
        Pool = [spawn(fun() -> fj_worker(N, 0, Self) end) || _ <- lists:seq(1, A)],
        spawn(fun() -> fj_drive(Pool, N, 0) end),
        wait_n(A, 0)
    end),
    {S, A * N, R, A * N};

%% -- fork-join creation ----------------------------------------------------------------------------
run("fork-join-create", Ps) ->
    N = p("n", Ps),
    Self = self(),
    {S, R} = timed(fun() ->
        spawn(fun() ->
            [begin
                 W = spawn(fun() -> receive {work, T} -> _ = fj_work(T), Self ! {done, 1} end end),
                 W ! {work, float(I)}
             end || I <- lists:seq(1, N)]
        end),
        wait_n(N, 0)
    end),
    {S, N, R, N};

%% -- thread ring --------------------------------------------------------------------------------------
run("thread-ring", Ps) ->
    A = p("actors", Ps), H = p("hops", Ps),
    Self = self(),
    Ring = [spawn(fun() -> receive {next, Next} -> ring(Next, Self, H) end end) || _ <- lists:seq(1, A)],
    link_ring(Ring, hd(Ring)),
    {S, R} = timed(fun() -> hd(Ring) ! {token, H}, receive {done, X} -> X end end),
    {S, H, R, H};

%% -- chameneos ------------------------------------------------------------------------------------------
run("chameneos", Ps) ->
    C = p("chameneos", Ps), M = p("meetings", Ps),
    Self = self(),
    {S, R} = timed(fun() ->
        Mall = spawn(fun() -> mall(M, none, 0, 0, C, Self) end),
        [begin
             Colour = I rem 3,
             Who = spawn(fun() -> creature(Mall, Colour, 0) end),
             Mall ! {meet, Who, Colour}
         end || I <- lists:seq(0, C - 1)],
        receive {done, X} -> X end
    end),
    {S, M, R, 2 * M};

%% -- big ----------------------------------------------------------------------------------------------------
run("big", Ps) ->
    A = p("actors", Ps), N = p("pings", Ps),
    Self = self(),
    {S, R} = timed(fun() ->
        All = [spawn(fun() -> big_start(I, N, Self) end) || I <- lists:seq(1, A)],
        Peers = list_to_tuple(All),
        [P ! {peers, Peers} || P <- All],
        wait_n(A, 0)
    end),
    {S, A * N, R, A * N};

%% -- actor creation (CAF paper) ----------------------------------------------------------------------------
run("actor-creation", Ps) ->
    D = p("depth", Ps),
    Self = self(),
    {S, R} = timed(fun() -> spawn(fun() -> tree(D, Self) end), receive {count, X} -> X end end),
    {S, (2 bsl D) - 1, R, 1 bsl D};

%% -- mailbox fan-in (CAF paper) ------------------------------------------------------------------------------
run("fan-in", Ps) ->
    Senders = p("senders", Ps), N = p("n", Ps),
    Self = self(),
    {S, R} = timed(fun() ->
        Sink = spawn(fun() -> sink(Senders * N, 0, Self) end),
        [spawn(fun() -> send_n(Sink, N) end) || _ <- lists:seq(1, Senders)],
        receive {done, X} -> X end
    end),
    {S, Senders * N, R, Senders * N};

%% -- mixed case (CAF paper) -----------------------------------------------------------------------------------
run("mixed-case", Ps) ->
    Rings = p("rings", Ps), Size = p("ring_size", Ps), H = p("hops", Ps), Jobs = p("jobs", Ps),
    Self = self(),
    Setup = [begin
                 Ring = [spawn(fun() -> receive {next, Next} -> mixed_ring(Next, Self) end end)
                         || _ <- lists:seq(1, Size)],
                 link_ring(Ring, hd(Ring)),
                 F = spawn(fun() -> factoriser(Self) end),
                 {hd(Ring), F}
             end || _ <- lists:seq(1, Rings)],
    Reports = Rings * (1 + Jobs),
    {S, R} = timed(fun() ->
        [begin First ! {token, H}, [F ! {factor, semiprime()} || _ <- lists:seq(1, Jobs)] end
         || {First, F} <- Setup],
        wait_n(Reports, 0)
    end),
    {S, Rings * H, R, Reports};

%% -- skynet ----------------------------------------------------------------------------------------------------------
run("skynet", Ps) ->
    L = p("levels", Ps),
    Leaves = pow10(L),
    Actors = lists:sum([pow10(I) || I <- lists:seq(0, L)]),
    Self = self(),
    {S, R} = timed(fun() -> spawn(fun() -> skynet(0, L, Self) end), receive {sum, X} -> X end end),
    {S, Actors, R, Leaves * (Leaves - 1) div 2};

%% -- request/reply ------------------------------------------------------------------------------------------------
run("calls-inside", Ps) ->
    Clients = p("clients", Ps), Calls = p("calls", Ps),
    Self = self(),
    {S, R} = timed(fun() ->
        [begin
             {ok, Server} = gen_server:start(?MODULE, [], []),
             spawn(fun() -> Self ! {done, call_n(Server, Calls, 0)} end)
         end || _ <- lists:seq(1, Clients)],
        wait_n(Clients, 0)
    end),
    {S, Clients * Calls, R, Clients * Calls};
run("calls-outside", Ps) ->
    Calls = p("calls", Ps),
    {ok, Server} = gen_server:start(?MODULE, [], []),
    {S, R} = timed(fun() -> call_n(Server, Calls, 0) end),
    {S, Calls, R, Calls};

%% -- the Savina concurrency and parallelism groups: their own module ----------------------------------
run(Name, Ps) -> eam_savina:run(Name, Ps).

%% -- the processes ----------------------------------------------------------------------------------------------------
ping(Pong, 0, Parent) -> Pong ! stop, Parent ! {done, 1};
ping(Pong, K, Parent) -> Pong ! {ping, self()}, receive pong -> ping(Pong, K - 1, Parent) end.

pong() -> receive {ping, From} -> From ! pong, pong(); stop -> ok end.

counter(N) -> receive inc -> counter(N + 1); {get, From} -> From ! {count, N} end.

fj_work(Theta) -> S = math:sin(Theta), C = math:cos(Theta), S * S + C * C.

fj_worker(N, Seen, Parent) ->
    receive {work, T} ->
        _ = fj_work(T),
        case Seen + 1 of
            N -> Parent ! {done, N};
            Next -> fj_worker(N, Next, Parent)
        end
    end.

fj_drive(_, N, N) -> ok;
fj_drive(Pool, N, I) -> [W ! {work, float(I)} || W <- Pool], fj_drive(Pool, N, I + 1).

wait_n(0, Sum) -> Sum;
wait_n(K, Sum) -> receive {done, X} -> wait_n(K - 1, Sum + X) end.

link_ring([Last], First) -> Last ! {next, First};
link_ring([P, Q | Rest], First) -> P ! {next, Q}, link_ring([Q | Rest], First).

ring(Next, Parent, Total) ->
    receive
        {token, 0} -> Parent ! {done, Total}, ring(Next, Parent, Total);
        {token, K} -> Next ! {token, K - 1}, ring(Next, Parent, Total)
    end.

complement(A, A) -> A;
complement(A, B) -> 3 - A - B.

mall(Left, Waiting, Faded, Total, Creatures, Parent) ->
    receive
        {meet, Who, _} when Left =:= 0 ->
            Who ! fade, mall(Left, Waiting, Faded, Total, Creatures, Parent);
        {meet, Who, Colour} when Waiting =:= none ->
            mall(Left, {Who, Colour}, Faded, Total, Creatures, Parent);
        {meet, Who, Colour} ->
            {Other, OtherColour} = Waiting,
            Other ! {mate, Colour},
            Who ! {mate, OtherColour},
            mall(Left - 1, none, Faded, Total, Creatures, Parent);
        {faded, M} when Faded + 1 =:= Creatures ->
            Parent ! {done, Total + M};
        {faded, M} ->
            mall(Left, Waiting, Faded + 1, Total + M, Creatures, Parent)
    end.

creature(Mall, Colour, Meetings) ->
    receive
        {mate, Other} ->
            New = complement(Colour, Other),
            Mall ! {meet, self(), New},
            creature(Mall, New, Meetings + 1);
        fade ->
            Mall ! {faded, Meetings}
    end.

big_start(I, N, Parent) ->
    rand:seed(exsss, {I, I * 7, I * 13}),
    receive {peers, Peers} -> big_send(Peers), big(Peers, N, 1, Parent) end.

big_send(Peers) -> element(rand:uniform(tuple_size(Peers)), Peers) ! {ping, self()}.

big(Peers, N, Sent, Parent) ->
    receive
        {ping, From} -> From ! pong, big(Peers, N, Sent, Parent);
        pong when Sent < N -> big_send(Peers), big(Peers, N, Sent + 1, Parent);
        pong -> Parent ! {done, N}, big_serve()
    end.

big_serve() -> receive {ping, From} -> From ! pong, big_serve() after 5000 -> ok end.

tree(0, Parent) -> Parent ! {count, 1};
tree(D, Parent) ->
    Self = self(),
    spawn(fun() -> tree(D - 1, Self) end),
    spawn(fun() -> tree(D - 1, Self) end),
    receive {count, A} -> receive {count, B} -> Parent ! {count, A + B} end end.

sink(Total, Total, Parent) -> Parent ! {done, Total};
sink(Total, Seen, Parent) -> receive {tick, V} -> sink(Total, Seen + V, Parent) end.

send_n(_, 0) -> ok;
send_n(Sink, K) -> Sink ! {tick, 1}, send_n(Sink, K - 1).

mixed_ring(Next, Parent) ->
    receive
        {token, 0} -> Parent ! {done, 1}, mixed_ring(Next, Parent);
        {token, K} -> Next ! {token, K - 1}, mixed_ring(Next, Parent)
    end.

semiprime() -> 1000003 * 1000033.

factoriser(Parent) ->
    receive {factor, N} ->
        Parent ! {done, case smallest_factor(N, 3) of 1000003 -> 1; _ -> -1000000000 end},
        factoriser(Parent)
    end.

smallest_factor(N, _) when N rem 2 =:= 0 -> 2;
smallest_factor(N, D) when D * D > N -> N;
smallest_factor(N, D) when N rem D =:= 0 -> D;
smallest_factor(N, D) -> smallest_factor(N, D + 2).

pow10(0) -> 1;
pow10(K) -> 10 * pow10(K - 1).

skynet(Number, 0, Parent) -> Parent ! {sum, Number};
skynet(Number, Level, Parent) ->
    Self = self(),
    [spawn(fun() -> skynet(Number * 10 + I, Level - 1, Self) end) || I <- lists:seq(0, 9)],
    Parent ! {sum, skynet_collect(10, 0)}.

skynet_collect(0, Sum) -> Sum;
skynet_collect(K, Sum) -> receive {sum, X} -> skynet_collect(K - 1, Sum + X) end.

call_n(_, 0, Sum) -> Sum;
call_n(Server, K, Sum) -> call_n(Server, K - 1, Sum + gen_server:call(Server, {echo, 1}, infinity)).

%% gen_server callbacks of the echo server.
init([]) -> {ok, nostate}.
handle_call({echo, V}, _From, State) -> {reply, V, State}.
handle_cast(_, State) -> {noreply, State}.
