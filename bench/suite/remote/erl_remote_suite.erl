%% The Erlang/OTP 25 peer of the remote group (system "erlang" in tools/suite.py): two BEAM
%% nodes on 127.0.0.1 joined by ordinary Erlang distribution (-name, -setcookie), the client's
%% processes sending to a process on the server node as Erlang programmers do: `Pid ! Msg`,
%% gen_server:call for the calls. Distribution's own flow control (busy_dist_port, +zdbbl)
%% suspends a sender that outruns the connection. tools/suite.py starts the nodes:
%%   erl -noshell -name S@127.0.0.1 -setcookie C ... -run erl_remote_suite main -extra
%%       --role server --workload W --n N
%%       registers the serving process, prints "READY <its node name>", serves until the client
%%       says stop, prints its own JSON line (what arrived, and whether it checks out)
%%   erl -noshell -name K@127.0.0.1 -setcookie C ... -run erl_remote_suite main -extra
%%       --role client --workload W --connect S@127.0.0.1 --n N
%%       connects (not timed), runs the workload, prints the suite's JSON line
%% The READY line names the node rather than a port: a node is found by name through epmd.
%% No remote-cast-curve: encrypted distribution (inet_tls_dist) needs certificates, so the
%% suite marks that row not applicable; no remote-gen-stage: GenStage is Elixir's, not OTP's.
%% The services' rows: remote-spawn is rpc:call(Node, erlang, spawn, ...) n times, each new
%% process telling the server it started; registry-propagation is global:register_name n
%% times, each timed until the server node resolves the name (asked by rpc, as libeam's client
%% asks its server); group-propagation is pg:join of one process to each of n groups (the
%% default scope, started on both nodes), each timed until pg on the server lists it.
-module(erl_remote_suite).
-behaviour(gen_server).
-export([main/0, spawnee/0]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(NAME, eam_remote_server).

main() ->
    Args = parse(init:get_plain_arguments(), #{}),
    case maps:get("role", Args) of
        "server" -> server(Args);
        "client" -> client(Args)
    end.

parse([], Acc) -> Acc;
parse(["--" ++ Key, Value | Rest], Acc) -> parse(Rest, Acc#{Key => Value}).

int(Key, Args) -> list_to_integer(maps:get(Key, Args)).

%% -- server ----------------------------------------------------------------------------------------
server(Args) ->
    Work = maps:get("workload", Args),
    N = int("n", Args),
    Main = self(),
    Server = case Work of
        "remote-cast" -> spawn(fun() -> sink(Main, 0, 0) end);
        "remote-ping-pong" -> spawn(fun() -> pong(Main, 0) end);
        "remote-spawn" -> spawn(fun() -> counter(Main, 0) end);
        "registry-propagation" -> spawn(fun() -> counter(Main, 0) end);
        "group-propagation" -> {ok, _} = pg:start_link(), spawn(fun() -> counter(Main, 0) end);
        "remote-call" -> {ok, P} = gen_server:start(?MODULE, Main, []), P
    end,
    register(?NAME, Server),
    io:format("READY ~s~n", [node()]),
    receive
        {finished, Client, Count, Sum} ->
            {Ok, Detail} = case Work of
                "remote-cast" ->
                    {Count =:= N andalso Sum =:= N * (N + 1) div 2,
                     io_lib:format("counted ~b, sum ~b (expected ~b)", [Count, Sum, N])};
                "registry-propagation" ->
                    {true, "names are the client's; resolved here by global"};
                "group-propagation" ->
                    {true, "members are the client's; listed here by pg"};
                _ ->
                    {Count =:= N, io_lib:format("served ~b (expected ~b)", [Count, N])}
            end,
            io:format("{\"workload\": \"~s\", \"role\": \"server\", \"seconds\": 0, \"items\": ~b, "
                      "\"ok\": ~s, \"detail\": \"~s\"}~n", [Work, Count, Ok, Detail]),
            %% Halting at once could drop the stop reply still in the distribution buffer: wait
            %% until the client node went away (it halts once it has the reply), boundedly.
            monitor_node(node(Client), true),
            receive {nodedown, _} -> ok after 5000 -> ok end,
            halt(case Ok of true -> 0; false -> 1 end)
    end.

sink(Main, Count, Sum) ->
    receive
        {cast, V} -> sink(Main, Count + 1, Sum + V);
        {'end', From} -> From ! {total, Count, Sum}, sink(Main, Count, Sum);
        {stop, From} -> From ! stopped, Main ! {finished, From, Count, Sum}
    end.

%% remote-spawn's and registry-propagation's server process: counts the spawned processes.
counter(Main, Count) ->
    receive
        spawned -> counter(Main, Count + 1);
        {stop, From} -> From ! stopped, Main ! {finished, From, Count, 0}
    end.

%% A process spawned from the client node by rpc: it reports to the server process and waits.
spawnee() ->
    ?NAME ! spawned,
    receive stop -> ok end.

pong(Main, Served) ->
    receive
        {ping, From, V} -> From ! {pong, V}, pong(Main, Served + 1);
        {stop, From} -> From ! stopped, Main ! {finished, From, Served, 0}
    end.

%% The echo gen_server of remote-call; its state: the main process and the calls served.
init(Main) -> {ok, {Main, 0}}.
handle_call({echo, V}, _From, {Main, Served}) -> {reply, V, {Main, Served + 1}};
handle_call(stop, {Client, _}, {Main, Served} = State) ->
    Main ! {finished, Client, Served, 0},
    {reply, stopped, State}.
handle_cast(_, State) -> {noreply, State}.

%% -- client ----------------------------------------------------------------------------------------
client(Args) ->
    Work = maps:get("workload", Args),
    N = int("n", Args),
    Node = list_to_atom(maps:get("connect", Args)),
    true = net_kernel:connect_node(Node),
    Server = rpc:call(Node, erlang, whereis, [?NAME]),
    true = is_pid(Server),
    {Seconds, Ok, Detail, Latency} = run(Work, Server, N),
    stop(Work, Server),
    Extra = case Latency of
        none -> "";
        {P50, P99} -> io_lib:format(", \"p50_us\": ~.2f, \"p99_us\": ~.2f", [P50, P99])
    end,
    io:format("{\"workload\": \"~s\", \"role\": \"client\", \"seconds\": ~.6f, \"items\": ~b, "
              "\"ok\": ~s, \"detail\": \"~s\"~s}~n", [Work, Seconds, N, Ok, Detail, Extra]),
    halt(case Ok of true -> 0; false -> 1 end).

timed(Fun) ->
    T0 = erlang:monotonic_time(microsecond),
    Result = Fun(),
    {(erlang:monotonic_time(microsecond) - T0) / 1.0e6, Result}.

run("remote-cast", Server, N) ->
    {S, {Count, Sum}} = timed(fun() ->
        cast_n(Server, 1, N),
        Server ! {'end', self()},
        receive {total, C, X} -> {C, X} end
    end),
    Want = N * (N + 1) div 2,
    {S, Count =:= N andalso Sum =:= Want,
     io_lib:format("server counted ~b sum ~b, expected ~b sum ~b", [Count, Sum, N, Want]), none};
run("remote-call", Server, N) ->
    {S, {Sum, Lat}} = timed(fun() -> call_n(Server, 1, N, 0, []) end),
    Want = N * (N + 1) div 2,
    {S, Sum =:= Want, io_lib:format("sum of replies ~b, expected ~b", [Sum, Want]), percentiles(Lat)};
run("remote-ping-pong", Server, N) ->
    {S, Sum} = timed(fun() -> ping_n(Server, 1, N, 0) end),
    Want = N * (N + 1) div 2,
    {S, Sum =:= Want, io_lib:format("sum of pongs ~b, expected ~b", [Sum, Want]), none};
run("remote-spawn", Server, N) ->
    Node = node(Server),
    {S, {Pids, Lat}} = timed(fun() -> spawn_n(Node, N, [], []) end),
    Alive = rpc:call(Node, erlang, is_process_alive, [hd(Pids)]),
    {S, Alive =:= true andalso length(Pids) =:= N,
     io_lib:format("~b processes spawned by rpc, the last alive: ~p", [length(Pids), Alive]), percentiles(Lat)};
run("group-propagation", Server, N) ->
    Node = node(Server),
    {ok, _} = pg:start_link(),
    {S, Lat} = timed(fun() -> join_n(Node, 0, N, []) end),
    {S, length(Lat) =:= N, io_lib:format("~b pg members listed on the other node", [length(Lat)]),
     percentiles(Lat)};
run("registry-propagation", Server, N) ->
    Node = node(Server),
    {S, Lat} = timed(fun() -> register_n(Node, 0, N, []) end),
    {S, length(Lat) =:= N, io_lib:format("~b global names resolved on the other node", [length(Lat)]),
     percentiles(Lat)}.

spawn_n(_, 0, Pids, Lat) -> {Pids, Lat};
spawn_n(Node, I, Pids, Lat) ->
    T0 = erlang:monotonic_time(nanosecond),
    Pid = rpc:call(Node, erlang, spawn, [?MODULE, spawnee, []]),
    T1 = erlang:monotonic_time(nanosecond),
    true = is_pid(Pid),
    spawn_n(Node, I - 1, [Pid | Pids], [T1 - T0 | Lat]).

register_n(_, N, N, Lat) -> Lat;
register_n(Node, I, N, Lat) ->
    Name = {bench_name, I},
    Holder = spawn(fun() -> receive stop -> ok end end),
    T0 = erlang:monotonic_time(nanosecond),
    yes = global:register_name(Name, Holder),
    wait_resolved(Node, Name),
    T1 = erlang:monotonic_time(nanosecond),
    register_n(Node, I + 1, N, [T1 - T0 | Lat]).

join_n(_, N, N, Lat) -> Lat;
join_n(Node, I, N, Lat) ->
    Group = {bench_group, I},
    Member = spawn(fun() -> receive stop -> ok end end),
    T0 = erlang:monotonic_time(nanosecond),
    ok = pg:join(Group, Member),
    wait_listed(Node, Group),
    T1 = erlang:monotonic_time(nanosecond),
    join_n(Node, I + 1, N, [T1 - T0 | Lat]).

wait_listed(Node, Group) ->
    case rpc:call(Node, pg, get_members, [Group]) of
        [_ | _] -> ok;
        _ -> wait_listed(Node, Group)
    end.

wait_resolved(Node, Name) ->
    case rpc:call(Node, global, whereis_name, [Name]) of
        Pid when is_pid(Pid) -> ok;
        _ -> wait_resolved(Node, Name)
    end.

cast_n(_, I, N) when I > N -> ok;
cast_n(Server, I, N) -> Server ! {cast, I}, cast_n(Server, I + 1, N).

call_n(_, I, N, Sum, Lat) when I > N -> {Sum, Lat};
call_n(Server, I, N, Sum, Lat) ->
    T0 = erlang:monotonic_time(nanosecond),
    V = gen_server:call(Server, {echo, I}, infinity),
    T1 = erlang:monotonic_time(nanosecond),
    call_n(Server, I + 1, N, Sum + V, [T1 - T0 | Lat]).

ping_n(_, I, N, Sum) when I > N -> Sum;
ping_n(Server, I, N, Sum) ->
    Server ! {ping, self(), I},
    receive {pong, V} -> ping_n(Server, I + 1, N, Sum + V) end.

%% The sorted sample at index (N - 1) * P div 100, as every remote peer computes it; microseconds.
percentiles([]) -> none;
percentiles(Lat) ->
    Sorted = list_to_tuple(lists:sort(Lat)),
    Last = tuple_size(Sorted) - 1,
    At = fun(P) -> element(Last * P div 100 + 1, Sorted) / 1000 end,
    {At(50), At(99)}.

%% Tell the server to finish and wait for its answer (boundedly: the result stands either way).
stop("remote-call", Server) ->
    catch gen_server:call(Server, stop, 5000);
stop(_, Server) ->
    Server ! {stop, self()},
    receive stopped -> ok after 5000 -> ok end.
