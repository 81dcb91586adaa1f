use chrono::NaiveDate;

use crate::bookings::*;

const HEADER: &str = "hotel,is_canceled,lead_time,arrival_date_year,arrival_date_month,arrival_date_week_number,arrival_date_day_of_month,stays_in_weekend_nights,stays_in_week_nights,adults,children,babies,meal,country,market_segment,distribution_channel,is_repeated_guest,previous_cancellations,previous_bookings_not_canceled,reserved_room_type,assigned_room_type,booking_changes,deposit_type,agent,company,days_in_waiting_list,customer_type,adr,required_car_parking_spaces,total_of_special_requests,reservation_status,reservation_status_date";

fn read(rows: &[&str]) -> Result<Vec<Booking>, BookingsError> {
    let text = std::iter::once(HEADER)
        .chain(rows.iter().copied())
        .collect::<Vec<_>>()
        .join("\n");
    read_bookings(text.as_bytes())
}

#[test]
fn reads_rows_by_header_name() {
    let b = read(&[
        "Resort Hotel,0,342,2015,July,27,1,0,0,2,0,0,BB,PRT,Direct,Direct,0,0,0,C,C,3,No Deposit,NULL,NULL,0,Transient,0,0,0,Check-Out,7/1/2015",
        "Resort Hotel,1,85,2016,March,13,27,1,2,2,NA,NULL,BB,GBR,TA,TA,0,0,0,A,D,0,Non Refund,240,NULL,0,Contract,98.5,0,1,Canceled,2016-02-03",
        "Resort Hotel,1,0,2016,Oct,44,30,0,1,1,,0,BB,ESP,TA,TA,0,0,0,XL2,XL2,1,Weird,240,NULL,0,Group,50,0,1,No-Show,10/30/2016",
    ])
    .expect("valid rows");
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].row, 1);
    assert_eq!(b[0].reservation_id(), "H1");
    assert_eq!(
        b[0].arrival,
        NaiveDate::from_ymd_opt(2015, 7, 1).expect("date")
    );
    assert_eq!(
        (b[0].nights, b[0].booking_changes, b[0].lead_time_days),
        (0, 3, 342)
    );
    assert_eq!(b[0].status, FinalStatus::CheckOut);
    assert!(!b[0].moves_room());
    assert_eq!(b[1].nights, 3);
    assert!(b[1].canceled && b[1].moves_room());
    assert_eq!(b[1].deposit_type, DepositType::NonRefund);
    assert_eq!(
        b[1].status_date,
        NaiveDate::from_ymd_opt(2016, 2, 3).expect("date")
    );
    assert_eq!((b[1].children, b[1].babies), (0, 0));
    assert_eq!(b[1].adr, 98.5);
    assert_eq!(b[2].reserved_room_type, "XL2");
    assert_eq!(b[2].deposit_type, DepositType::Other("Weird".into()));
    assert_eq!(b[2].status, FinalStatus::NoShow);
}

#[test]
fn columns_may_come_in_any_order_and_guest_facts_are_optional() {
    let text = "reservation_status_date,reservation_status,deposit_type,booking_changes,assigned_room_type,reserved_room_type,stays_in_week_nights,stays_in_weekend_nights,arrival_date_day_of_month,arrival_date_month,arrival_date_year,lead_time,is_canceled\n\
                7/3/2015,Check-Out,Refundable,0,B,B,2,0,1,July,2015,10,0\n";
    let b = read_bookings(text.as_bytes()).expect("valid");
    assert_eq!(b[0].nights, 2);
    assert_eq!(b[0].adults, 0);
    assert_eq!(b[0].deposit_type, DepositType::Refundable);
}

#[test]
fn errors_name_line_and_column() {
    let err = read(&[
        "Resort Hotel,0,342,2015,July,27,1,0,0,2,0,0,BB,PRT,Direct,Direct,0,0,0,C,C,3,No Deposit,NULL,NULL,0,Transient,0,0,0,Check-Out,7/1/2015",
        "Resort Hotel,0,seven,2015,July,27,1,0,0,2,0,0,BB,PRT,Direct,Direct,0,0,0,C,C,3,No Deposit,NULL,NULL,0,Transient,0,0,0,Check-Out,7/1/2015",
    ])
    .expect_err("bad lead time");
    let text = err.to_string();
    assert!(
        text.contains("line 3") && text.contains("lead_time") && text.contains("seven"),
        "{text}"
    );

    let err = read(&["Resort Hotel,0,1,2015,Julember,27,1,0,0,2,0,0,BB,PRT,Direct,Direct,0,0,0,C,C,3,No Deposit,NULL,NULL,0,Transient,0,0,0,Check-Out,7/1/2015"])
        .expect_err("bad month");
    assert!(err.to_string().contains("arrival_date_month"), "{err}");

    let err = read(&["Resort Hotel,0,1,2015,February,27,30,0,0,2,0,0,BB,PRT,Direct,Direct,0,0,0,C,C,3,No Deposit,NULL,NULL,0,Transient,0,0,0,Check-Out,7/1/2015"])
        .expect_err("30 February");
    assert!(
        err.to_string().contains("arrival_date_day_of_month"),
        "{err}"
    );

    let err = read(&["Resort Hotel,0,1,2015,July,27,1,0,0,2,0,0,BB,PRT,Direct,Direct,0,0,0,C,C,3,No Deposit,NULL,NULL,0,Transient,0,0,0,Gone,7/1/2015"])
        .expect_err("bad status");
    assert!(err.to_string().contains("reservation_status"), "{err}");

    let err = read(&["Resort Hotel,0,1,2015,July,27,1,0,0,2,0,0,BB,PRT,Direct,Direct,0,0,0,C D,C,3,No Deposit,NULL,NULL,0,Transient,0,0,0,Check-Out,7/1/2015"])
        .expect_err("room type with a space");
    assert!(err.to_string().contains("reserved_room_type"), "{err}");

    let err = read(&["Resort Hotel,0,1,2015"]).expect_err("short row");
    assert!(matches!(err, BookingsError::Csv { line: 2, .. }), "{err:?}");

    let err = read_bookings("hotel,lead_time\nx,1\n".as_bytes()).expect_err("no columns");
    assert!(
        matches!(
            err,
            BookingsError::MissingColumn {
                column: "is_canceled"
            }
        ),
        "{err:?}"
    );
}

#[test]
fn reads_the_real_resort_file() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/hotel_bookings_resort.csv");
    let file = std::fs::File::open(&path).expect("the resort bookings file must exist");
    let b = read_bookings(file).expect("the real file parses");
    assert_eq!(b.len(), 9_999);
    assert_eq!(
        b.iter().filter(|b| b.status == FinalStatus::NoShow).count(),
        160
    );
    assert_eq!(
        b.iter()
            .filter(|b| b.status == FinalStatus::CheckOut)
            .count(),
        3_666
    );
    assert!(b.iter().any(|b| b.nights == 0), "day-use rows are kept");
}
